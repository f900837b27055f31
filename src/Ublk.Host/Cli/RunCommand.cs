using System.CommandLine;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using S3Block.Cache.Chunks;
using S3Block.Cache.Journal;
using S3Block.ObjectStore;
using S3Block.Ublk.Configuration;
using S3Block.Ublk.Daemon;
using S3Block.Ublk.Metrics;
using S3Block.Ublk.Systemd;
using S3Block.Volume;

namespace S3Block.Ublk.Cli;

/// <summary><c>s3block run VOLUME</c>: the daemon. Serves a volume on a ublk device until SIGTERM.</summary>
internal static class RunCommand
{
    private static readonly Argument<string?> Volume = new("volume")
    {
        Description = "The volume to serve (default: Daemon:Volume from the configuration).",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private static readonly Option<bool> ForceTakeover = new("--force-takeover")
    {
        Description = "Take the volume even if another daemon holds its lease (that daemon is fenced and can no longer commit).",
    };

    public static Command Create() => Create("run", RunDescription, recoverOnly: false);

    /// <summary>The verb; <paramref name="recoverOnly"/> makes it refuse to create a device.</summary>
    public static Command Create(string name, string description, bool recoverOnly)
    {
        var command = new Command(name, description)
        {
            Volume, ForceTakeover,
        };
        CommonOptions.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, (context, token) => RunAsync(parse, context, recoverOnly, token), ct));
        return command;
    }

    private const string RunDescription = """
            Serve a volume on a ublk block device (/dev/ublkbN) until SIGTERM or Ctrl+C. Writes are journaled locally and
            uploaded to the store in crash-consistent commits; FLUSH waits for the journal (Volume:FlushMode=Journal) or
            for S3 (Remote). If a previous daemon crashed, its device is re-attached (user recovery) without unmounting.
            On SIGTERM everything is uploaded, then the device is stopped and deleted (or left attached if still mounted).
            Needs root and the ublk_drv kernel module.

            Examples:
              s3block create vol1 --size 10GiB && sudo s3block run vol1
              sudo s3block run --config /etc/s3block/vol1.json          # as the systemd unit does
              sudo s3block run vol1 --set Volume:FlushMode=Remote --set Device:Queues=4
            """;

    private static async Task<int> RunAsync(ParseResult parse, CommandContext context, bool recoverOnly, CancellationToken cancellationToken)
    {
        // Every setting is checked before anything touches the store or the kernel.
        var settings = Settings.Load(context, parse.GetValue(Volume), parse.GetValue(ForceTakeover));
        settings.Daemon.RecoverOnly = recoverOnly;
        BlockDevices.RequireUblkDriver();

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = false });
        builder.Configuration.AddConfiguration(context.Configuration);
        // Uploading everything at SIGTERM can take long; under systemd its stop timeout (extended while we progress) rules.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromHours(1));
        // Registration order matters: the host stops services in reverse, so metrics and systemd outlive the daemon.
        builder.AddS3BlockSystemd();
        builder.Services.AddS3BlockMetrics(settings.Metrics, typeof(RunCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);
        builder.Services.AddSingleton(settings.Daemon).AddSingleton(settings.Device).AddSingleton(settings.Volume)
            .AddSingleton(settings.Journal).AddSingleton(settings.Cache).AddSingleton(settings.Store)
            .AddSingleton<MetricsBridge>()
            .AddHostedService<VolumeDaemon>();
        using var host = builder.Build();
        await host.RunAsync(cancellationToken);
        return ExitCodes.Success;
    }

    /// <summary>Every section the daemon reads, bound and validated.</summary>
    private sealed record Settings(
        StoreOptions Store, DaemonOptions Daemon, DeviceSettings Device, VolumeOptions Volume, JournalOptions Journal,
        ChunkCacheOptions Cache, MetricsOptions Metrics)
    {
        public static Settings Load(CommandContext context, string? volume, bool forceTakeover)
        {
            var configuration = context.Configuration;
            var store = context.StoreOptions();
            var daemon = OptionsBinder.Bind<DaemonOptions>(configuration, DaemonOptions.Section);
            daemon.Volume = volume ?? daemon.Volume;
            daemon.ForceTakeover |= forceTakeover;
            var device = OptionsBinder.Bind<DeviceSettings>(configuration, DeviceSettings.Section);
            var volumeOptions = OptionsBinder.Bind<VolumeOptions>(configuration, VolumeOptions.Section);
            var journal = OptionsBinder.Bind<JournalOptions>(configuration, "Journal");
            var cache = OptionsBinder.Bind<ChunkCacheOptions>(configuration, "Cache");
            if (configuration["Cache:Folder"] is null)
            {
                cache.Folder = daemon.DefaultCacheFolder;
            }

            var metrics = OptionsBinder.Bind<MetricsOptions>(configuration, MetricsOptions.Section);
            var problems = daemon.Validate()
                .Concat(device.Validate())
                .Concat(volumeOptions.Validate())
                .Concat(cache.Validate("Cache", VolumeDescriptor.MinChunkSize))
                .Concat(metrics.Validate())
                .Concat(JournalProblems(journal));
            var problem = problems.FirstOrDefault();
            return problem is null
                ? new Settings(store, daemon, device, volumeOptions, journal, cache, metrics)
                : throw new ConfigurationProblemException(problem);
        }

        private static IEnumerable<string> JournalProblems(JournalOptions journal)
        {
            string? problem = null;
            try
            {
                journal.Validate();
            }
            catch (ArgumentException e)
            {
                problem = $"Journal:{e.ParamName}: {e.Message.Split(" (Parameter")[0]}";
            }

            return problem is null ? [] : [problem];
        }
    }
}
