using Microsoft.Extensions.Configuration;
using S3Block.Cache.Chunks;
using S3Block.Cache.Journal;
using S3Block.ObjectStore;
using S3Block.Ublk.Daemon;
using S3Block.Ublk.Metrics;
using S3Block.Volume;

namespace S3Block.Ublk.Configuration;

/// <summary>Binds a section to an options class, turning binder failures into a line that names the key.</summary>
/// <remarks>
/// The daemon ships compiled ahead of time, where only the binder's source generator binds: it writes binding code for
/// each call whose options type it sees. So every options class gets its own call below, not one generic call.
/// </remarks>
internal static class OptionsBinder
{
    public static T Bind<T>(IConfiguration configuration, string section)
        where T : class, new()
    {
        var options = new T();
        try
        {
            BindSection(configuration.GetSection(section), options);
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigurationProblemException($"{section}: {Describe(e)}");
        }

        return options;
    }

    private static void BindSection(IConfigurationSection section, object options)
    {
        switch (options)
        {
            case StoreOptions o: section.Bind(o, Strict); break;
            case DaemonOptions o: section.Bind(o, Strict); break;
            case DeviceSettings o: section.Bind(o, Strict); break;
            case VolumeOptions o: section.Bind(o, Strict); break;
            case JournalOptions o: section.Bind(o, Strict); break;
            case ChunkCacheOptions o: section.Bind(o, Strict); break;
            case MetricsOptions o: section.Bind(o, Strict); break;
            default: throw new NotSupportedException($"{options.GetType().Name} has no binding in {nameof(OptionsBinder)}");
        }
    }

    private static void Strict(BinderOptions options) => options.ErrorOnUnknownConfiguration = true;

    private static string Describe(InvalidOperationException e)
    {
        // The binder says "Failed to convert configuration value at 'Store:S3:MaxConcurrentRequests' to type ..."
        // or lists unknown keys; both already name the key.
        var inner = e.InnerException is null ? "" : $" ({e.InnerException.Message})";
        return e.Message.ReplaceLineEndings(" ") + inner;
    }
}
