using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using S3Block.Ublk.Daemon;
using S3Block.Ublk.Metrics;
using S3Block.Ublk.Systemd;

namespace S3Block.Ublk.Cli;

/// <summary>The Generic Host behind <c>run</c> and <c>recover</c>: what the daemon is made of, in one place (tests build it too).</summary>
internal static class DaemonHost
{
    /// <summary>Builds (does not start) the host for validated <paramref name="settings"/>.</summary>
    public static IHost Build(DaemonSettings settings, IConfiguration configuration)
    {
        // Not CreateApplicationBuilder's defaults: those would also read appsettings*.json from the working folder (with a
        // recursive file watcher on it, which holds the state folder in the tests and the README's quick start), every
        // environment variable, and add the Debug and EventSource loggers. The configuration is ours (AppConfiguration),
        // and the console is the one log.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddConsole();
        // Uploading everything at SIGTERM can take long; under systemd its stop timeout (extended while we progress) rules.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromHours(1));
        // Registration order matters: the host stops services in reverse, so metrics and systemd outlive the daemon.
        builder.AddS3BlockSystemd();
        builder.Services.AddS3BlockMetrics(settings.Metrics, typeof(DaemonHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);
        builder.Services.AddSingleton(settings.Daemon).AddSingleton(settings.Device).AddSingleton(settings.Volume)
            .AddSingleton(settings.Journal).AddSingleton(settings.Cache).AddSingleton(settings.Store)
            .AddSingleton<DaemonStoreFactory>()
            .AddSingleton<MetricsBridge>()
            .AddSingleton<VolumeDaemon>()
            .AddHostedService(services => services.GetRequiredService<VolumeDaemon>());
        return builder.Build();
    }
}
