using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using S3Block.Ublk.Systemd;

namespace S3Block.Ublk.Tests.Systemd;

/// <summary>AddS3BlockSystemd in a real Generic Host, talking to a real notify socket.</summary>
public sealed class SystemdHostingTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task ReadyIsTheDaemonsCallAndStoppingComesWithShutdown()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        using IHost host = BuildHost(new SystemdEnvironment(listener.Address, null, "invocation"));
        CancellationToken ct = TestContext.Current.CancellationToken;

        await host.StartAsync(ct);
        Assert.Null(await listener.ReceiveAsync(Quiet)); // started is not serving: no READY=1 yet

        SystemdNotifier notifier = host.Services.GetRequiredService<SystemdNotifier>();
        Assert.True(notifier.Ready("serving /dev/ublkb0"));
        Assert.Equal("READY=1\nSTATUS=serving /dev/ublkb0", await listener.ExpectAsync());

        await host.StopAsync(ct);
        Assert.Equal("STOPPING=1\nSTATUS=stopping", await listener.ExpectAsync());
        Assert.Empty(listener.Drain());
    }

    [Fact]
    public async Task ReadyOnApplicationStartedIsAnOption()
    {
        using NotifySocketListener listener = NotifySocketListener.BindPath();
        using IHost host = BuildHost(new SystemdEnvironment(listener.Address, null, "invocation"), o =>
        {
            o.ReadyOnApplicationStarted = true;
            o.ReadyStatus = "store-check running";
        });

        await host.StartAsync(TestContext.Current.CancellationToken);
        Assert.Equal("READY=1\nSTATUS=store-check running", await listener.ExpectAsync());
        await host.StopAsync(TestContext.Current.CancellationToken);
        Assert.Equal("STOPPING=1\nSTATUS=stopping", await listener.ExpectAsync());
    }

    [Fact]
    public async Task TheWatchdogRunsInTheHostWithTheProbesFromDependencyInjection()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var probe = new ScriptedProbe("uploader");
        using IHost host = BuildHost(
            new SystemdEnvironment(listener.Address, TimeSpan.FromMilliseconds(200), "invocation"),
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
        using IHost host = BuildHost(new SystemdEnvironment(null, null, "invocation"));

        Assert.Equal(ConsoleFormatterNames.Systemd, host.Services.GetRequiredService<IOptions<ConsoleLoggerOptions>>().Value.FormatterName);
        Assert.True(host.Services.GetRequiredService<IOptions<ConsoleLifetimeOptions>>().Value.SuppressStatusMessages);
        Assert.Equal(Timeout.InfiniteTimeSpan, host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public void OutsideSystemdTheHostKeepsItsDefaults()
    {
        using IHost host = BuildHost(SystemdEnvironment.None);

        Assert.NotEqual(ConsoleFormatterNames.Systemd, host.Services.GetRequiredService<IOptions<ConsoleLoggerOptions>>().Value.FormatterName);
        Assert.False(host.Services.GetRequiredService<IOptions<ConsoleLifetimeOptions>>().Value.SuppressStatusMessages);
        Assert.Equal(TimeSpan.FromSeconds(30), host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
        Assert.False(host.Services.GetRequiredService<SystemdNotifier>().IsEnabled);
    }

    [Fact]
    public void TheShutdownTimeoutUnderSystemdCanBeLeftAlone()
    {
        using IHost host = BuildHost(new SystemdEnvironment(null, null, "invocation"), o => o.ShutdownTimeoutUnderSystemd = null);

        Assert.Equal(TimeSpan.FromSeconds(30), host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    private static IHost BuildHost(
        SystemdEnvironment environment,
        Action<SystemdIntegrationOptions>? configure = null,
        Action<IServiceCollection>? configureServices = null)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.AddS3BlockSystemd(environment, configure);
        configureServices?.Invoke(builder.Services);
        return builder.Build();
    }
}
