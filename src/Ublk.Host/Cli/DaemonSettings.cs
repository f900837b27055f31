using S3Block.Cache.Chunks;
using S3Block.Cache.Journal;
using S3Block.ObjectStore;
using S3Block.Ublk.Configuration;
using S3Block.Ublk.Daemon;
using S3Block.Ublk.Metrics;
using S3Block.Volume;

namespace S3Block.Ublk.Cli;

/// <summary>Every section the daemon reads, bound and validated.</summary>
internal sealed record DaemonSettings(
    StoreOptions Store, DaemonOptions Daemon, DeviceSettings Device, VolumeOptions Volume, JournalOptions Journal,
    ChunkCacheOptions Cache, MetricsOptions Metrics)
{
    public static DaemonSettings Load(CommandContext context, string? volume, bool forceTakeover)
    {
        var configuration = context.Configuration;
        var store = context.StoreOptions();
        var daemon = context.DaemonOptions(volume);
        daemon.ForceTakeover |= forceTakeover;
        var device = OptionsBinder.Bind<DeviceSettings>(configuration, DeviceSettings.Section);
        var volumeOptions = OptionsBinder.Bind<VolumeOptions>(configuration, VolumeOptions.Section);
        var journal = OptionsBinder.Bind<JournalOptions>(configuration, "Journal");
        var cache = OptionsBinder.Bind<ChunkCacheOptions>(configuration, "Cache");
        // Unset or empty (as appsettings.json ships it): the volume's own folder under the state directory.
        if (string.IsNullOrEmpty(configuration["Cache:Folder"]))
        {
            cache.Folder = daemon.DefaultCacheFolder;
        }

        var metrics = OptionsBinder.Bind<MetricsOptions>(configuration, MetricsOptions.Section);
        var problems = device.Validate()
            .Concat(volumeOptions.Validate())
            .Concat(cache.Validate("Cache", VolumeDescriptor.MinChunkSize))
            .Concat(metrics.Validate())
            .Concat(JournalProblems(journal));
        var problem = problems.FirstOrDefault();
        return problem is null
            ? new DaemonSettings(store, daemon, device, volumeOptions, journal, cache, metrics)
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
