using Microsoft.Extensions.Configuration;
using S3Block.ObjectStore;
using S3Block.Ublk.Configuration;
using S3Block.Ublk.Daemon;

namespace S3Block.Ublk.Cli;

/// <summary>What a command's body gets: the validated configuration and where to write.</summary>
internal sealed class CommandContext(IConfiguration configuration, TextWriter output)
{
    public IConfiguration Configuration { get; } = configuration;

    public TextWriter Out { get; } = output;

    /// <summary>The store options, validated; a problem throws <see cref="ConfigurationProblemException"/>.</summary>
    public StoreOptions StoreOptions()
    {
        var options = OptionsBinder.Bind<StoreOptions>(Configuration, ObjectStore.StoreOptions.Section);
        var problem = options.Validate().FirstOrDefault();
        return problem is null ? options : throw new ConfigurationProblemException(problem);
    }

    /// <summary>The daemon options for <paramref name="volume"/> (the command's argument; null keeps
    /// <c>Daemon:Volume</c>), validated; a problem throws <see cref="ConfigurationProblemException"/>.</summary>
    public DaemonOptions DaemonOptions(string? volume)
    {
        var options = OptionsBinder.Bind<DaemonOptions>(Configuration, Daemon.DaemonOptions.Section);
        options.Volume = volume ?? options.Volume;
        var problem = options.Validate().FirstOrDefault();
        return problem is null ? options : throw new ConfigurationProblemException(problem);
    }
}
