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
        return Valid(options, options.Validate());
    }

    /// <summary>The daemon options for <paramref name="volume"/> (the command's argument; null keeps
    /// <c>Daemon:Volume</c>), validated; a problem throws <see cref="ConfigurationProblemException"/>.</summary>
    public DaemonOptions DaemonOptions(string? volume)
    {
        var options = OptionsBinder.Bind<DaemonOptions>(Configuration, Daemon.DaemonOptions.Section);
        options.Volume = volume ?? options.Volume;
        return Valid(options, options.Validate());
    }

    /// <summary><paramref name="options"/>, or <see cref="ConfigurationProblemException"/> with the first problem.</summary>
    private static T Valid<T>(T options, IEnumerable<string> problems) =>
        problems.FirstOrDefault() is { } problem ? throw new ConfigurationProblemException(problem) : options;
}
