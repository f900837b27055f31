using Microsoft.Extensions.Hosting;

namespace S3Block.Ublk.Systemd;

/// <summary>
/// Ties the Generic Host's lifetime to sd_notify: <c>STOPPING=1</c> as soon as shutdown begins
/// (<see cref="IHostApplicationLifetime.ApplicationStopping"/>, i.e. SIGTERM through the console lifetime, before any
/// hosted service stops), and optionally <c>READY=1</c> on <see cref="IHostApplicationLifetime.ApplicationStarted"/>
/// (see <see cref="SystemdIntegrationOptions.ReadyOnApplicationStarted"/>; the daemon normally calls
/// <see cref="SystemdNotifier.Ready"/> itself).
/// </summary>
internal sealed class SystemdLifetimeNotifications(
    SystemdNotifier notifier,
    SystemdIntegrationOptions options,
    IHostApplicationLifetime lifetime) : IHostedService, IDisposable
{
    private CancellationTokenRegistration _started;
    private CancellationTokenRegistration _stopping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.ReadyOnApplicationStarted)
        {
            _started = lifetime.ApplicationStarted.Register(() => notifier.Ready(options.ReadyStatus));
        }

        _stopping = lifetime.ApplicationStopping.Register(() => notifier.Stopping(options.StoppingStatus));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _started.Dispose();
        _stopping.Dispose();
    }
}
