using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Console;

namespace S3Block.Ublk.Systemd;

/// <summary>Wires a Generic Host to systemd with Microsoft.Extensions.Hosting.Systemd, plus our progress-gated watchdog.</summary>
internal static class SystemdHostingExtensions
{
    /// <summary>
    /// Registers the systemd integration:
    /// <list type="bullet">
    /// <item>under systemd, the package's <c>AddSystemd()</c> (what <c>UseSystemd()</c> does for a host builder):
    /// <see cref="SystemdLifetime"/> sends <c>READY=1</c> once every hosted service has started — for the daemon, once
    /// the ublk device serves, so mounts ordered after the unit find <c>/dev/ublkbN</c> — and <c>STOPPING=1</c> when
    /// shutdown begins (SIGTERM); logs use the journald console format (priorities as <c>&lt;N&gt;</c> prefixes);</item>
    /// <item><see cref="ISystemdNotifier"/> (the package's; disabled without <c>NOTIFY_SOCKET</c>) and
    /// <see cref="SystemdNotifications"/> over it for <c>STATUS=</c>, <c>WATCHDOG=1</c> and
    /// <c>EXTEND_TIMEOUT_USEC=</c>;</item>
    /// <item><see cref="CompositeProgressProbe"/> (singleton) holding every DI-registered <see cref="IProgressProbe"/>;</item>
    /// <item><see cref="SystemdWatchdogService"/>: <c>WATCHDOG=1</c> every half interval while the probes progress;</item>
    /// <item>under systemd, <see cref="SystemdIntegrationOptions.ShutdownTimeoutUnderSystemd"/>.</item>
    /// </list>
    /// Call this before registering the daemon's own hosted services: the host stops services in reverse order, so the
    /// watchdog then outlives the flush.
    /// </summary>
    public static IHostApplicationBuilder AddS3BlockSystemd(this IHostApplicationBuilder builder, Action<SystemdIntegrationOptions>? configure = null) =>
        builder.AddS3BlockSystemd(SystemdEnvironment.FromProcess(), configure);

    /// <summary>As above with a given environment (tests; they register their own <see cref="ISystemdNotifier"/> first).</summary>
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
        if (environment.IsSystemdService)
        {
            if (SystemdHelpers.IsSystemdService())
            {
                services.AddSystemd();
            }
            else
            {
                // A simulated systemd (tests): the registrations AddSystemd() makes, keeping a notifier already given.
                services.Configure<ConsoleLoggerOptions>(o => o.FormatterName = ConsoleFormatterNames.Systemd);
                services.AddSingleton<IHostLifetime, SystemdLifetime>();
            }

            if (options.ShutdownTimeoutUnderSystemd is { } shutdownTimeout)
            {
                services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout);
            }
        }

        services.TryAddSingleton<ISystemdNotifier, SystemdNotifier>();
        services.TryAddSingleton(environment);
        services.TryAddSingleton(options);
        services.TryAddSingleton<SystemdNotifications>();
        services.TryAddSingleton(sp => new CompositeProgressProbe(sp.GetServices<IProgressProbe>()));
        services.AddSingleton<SystemdWatchdogService>();
        services.AddHostedService(sp => sp.GetRequiredService<SystemdWatchdogService>());
        return builder;
    }
}
