using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using S3Block.Ublk.Systemd;

namespace S3Block.Ublk.Tests.Systemd;

/// <summary>AddS3BlockSystemd in a real Generic Host, talking to a real notify socket.</summary>
public sealed class SystemdHostingTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task ReadyComesOnceEveryHostedServiceHasStartedAndStoppingWithShutdown()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var serving = new TaskCompletionSource();
        using IHost host = BuildHost(new SystemdEnvironment(true, null), listener.CreateNotifier(),
            configureServices: services => services.AddHostedService(_ => new SlowStart(serving.Task)));
        CancellationToken ct = TestContext.Current.CancellationToken;

        Task start = host.StartAsync(ct);
        Assert.Null(await listener.ReceiveAsync(Quiet)); // the device is not serving yet: no READY=1
        serving.SetResult();
        await start;
        Assert.Equal("READY=1", await listener.ExpectAsync());
        Assert.IsType<SystemdLifetime>(host.Services.GetRequiredService<IHostLifetime>());

        await host.StopAsync(ct);
        Assert.Equal("STOPPING=1", await listener.ExpectAsync());
        Assert.Empty(listener.Drain());
    }

    [Fact]
    public async Task TheWatchdogRunsInTheHostWithTheProbesFromDependencyInjection()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var probe = new ScriptedProbe("uploader");
        using IHost host = BuildHost(
            new SystemdEnvironment(false, TimeSpan.FromMilliseconds(200)),
            listener.CreateNotifier(),
            configureServices: services => services.AddSingleton<IProgressProbe>(probe));

        await host.StartAsync(TestContext.Current.CancellationToken);
        Assert.Equal("WATCHDOG=1", await listener.ExpectAsync());
        Assert.Equal("WATCHDOG=1", await listener.ExpectAsync());
        Assert.Equal(["uploader"], host.Services.GetRequiredService<CompositeProgressProbe>().Names);
        Assert.True(probe.Checks >= 2);

        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public void UnderSystemdLogsUseTheJournalFormatAndTheHostWaitsForSystemdsStopTimeout()
    {
        using IHost host = BuildHost(new SystemdEnvironment(true, null));

        Assert.Equal(ConsoleFormatterNames.Systemd, host.Services.GetRequiredService<IOptions<ConsoleLoggerOptions>>().Value.FormatterName);
        Assert.IsType<SystemdLifetime>(host.Services.GetRequiredService<IHostLifetime>());
        Assert.Equal(Timeout.InfiniteTimeSpan, host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public void OutsideSystemdTheHostKeepsItsDefaults()
    {
        using IHost host = BuildHost(SystemdEnvironment.None, NotifySocketListener.PackageNotifier(null));

        Assert.NotEqual(ConsoleFormatterNames.Systemd, host.Services.GetRequiredService<IOptions<ConsoleLoggerOptions>>().Value.FormatterName);
        Assert.IsNotType<SystemdLifetime>(host.Services.GetRequiredService<IHostLifetime>());
        Assert.Equal(TimeSpan.FromSeconds(30), host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
        Assert.False(host.Services.GetRequiredService<SystemdNotifications>().IsEnabled);
    }

    [Fact]
    public void TheShutdownTimeoutUnderSystemdCanBeLeftAlone()
    {
        using IHost host = BuildHost(new SystemdEnvironment(true, null), configure: o => o.ShutdownTimeoutUnderSystemd = null);

        Assert.Equal(TimeSpan.FromSeconds(30), host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    private static IHost BuildHost(
        SystemdEnvironment environment,
        ISystemdNotifier? notifier = null,
        Action<SystemdIntegrationOptions>? configure = null,
        Action<IServiceCollection>? configureServices = null)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Services.AddSingleton(notifier ?? NotifySocketListener.PackageNotifier(null));
        builder.AddS3BlockSystemd(environment, configure);
        configureServices?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>A hosted service whose start completes when told: the daemon's, which starts once the device serves.</summary>
    private sealed class SlowStart(Task serving) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => serving.WaitAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
