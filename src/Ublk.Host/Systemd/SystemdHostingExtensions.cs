using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace S3Block.Ublk.Systemd;

/// <summary>Wires a Generic Host to systemd (we cannot use Microsoft.Extensions.Hosting.Systemd: not on our feed).</summary>
internal static class SystemdHostingExtensions
{
    /// <summary>
    /// Registers the systemd integration, reading <c>NOTIFY_SOCKET</c>, <c>WATCHDOG_USEC</c>/<c>WATCHDOG_PID</c> and
    /// <c>INVOCATION_ID</c> from the process environment:
    /// <list type="bullet">
    /// <item><see cref="SystemdNotifier"/> (singleton; a no-op outside systemd) for <c>Ready()</c>, <c>Status()</c>,
    /// <c>ExtendTimeoutWhileAsync()</c>;</item>
    /// <item><see cref="CompositeProgressProbe"/> (singleton) holding every DI-registered <see cref="IProgressProbe"/>;
    /// add runtime probes with <see cref="CompositeProgressProbe.Add"/>;</item>
    /// <item><see cref="SystemdLifetimeNotifications"/>: <c>STOPPING=1</c> on ApplicationStopping, optionally
    /// <c>READY=1</c> on ApplicationStarted;</item>
    /// <item><see cref="SystemdWatchdogService"/>: <c>WATCHDOG=1</c> every half interval while the probes progress;</item>
    /// <item>under systemd: the systemd console formatter (journal priorities as <c>&lt;N&gt;</c> prefixes, no
    /// timestamps, one line per entry), no "Press Ctrl+C" banner, and <see cref="SystemdIntegrationOptions.ShutdownTimeoutUnderSystemd"/>.</item>
    /// </list>
    /// SIGTERM stays with the host's console lifetime (→ StopApplication). Call this before registering the daemon's own
    /// hosted services: the host stops services in reverse order, so the watchdog and notifier then outlive the flush.
    /// </summary>
    public static IHostApplicationBuilder AddS3BlockSystemd(this IHostApplicationBuilder builder, Action<SystemdIntegrationOptions>? configure = null) =>
        builder.AddS3BlockSystemd(SystemdEnvironment.FromProcess(), configure);

    /// <summary>As above with a given environment (tests).</summary>
    public static IHostApplicationBuilder AddS3BlockSystemd(
        this IHostApplicationBuilder builder,
        SystemdEnvironment environment,
        Action<SystemdIntegrationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(environment);
        var options = new SystemdIntegrationOptions();
        configure?.Invoke(options);

        IServiceCollection services = builder.Services;
        services.TryAddSingleton(environment);
        services.TryAddSingleton(options);
        services.TryAddSingleton(sp => new SystemdNotifier(environment.NotifySocket, sp.GetService<ILogger<SystemdNotifier>>()));
        services.TryAddSingleton(sp => new CompositeProgressProbe(sp.GetServices<IProgressProbe>()));
        services.AddHostedService<SystemdLifetimeNotifications>();
        services.AddSingleton<SystemdWatchdogService>();
        services.AddHostedService(sp => sp.GetRequiredService<SystemdWatchdogService>());

        if (environment.IsUnderSystemd)
        {
            // journald reads the "<N>" priority prefix from stdout and stamps the time itself.
            builder.Logging.AddSystemdConsole();
            services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
            if (options.ShutdownTimeoutUnderSystemd is { } shutdownTimeout)
            {
                services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout);
            }
        }

        return builder;
    }
}
