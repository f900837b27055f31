using Microsoft.Extensions.Configuration;

namespace S3Block.Ublk.Configuration;

/// <summary>
/// Builds the configuration every command reads, in the usual .NET precedence (later wins): the shipped
/// <c>appsettings.json</c>, <c>/etc/s3block/s3block.json</c>, the file given with <c>--config</c>, environment
/// variables prefixed <c>S3BLOCK_</c> (sections separated by <c>__</c>), then <c>--set Key=Value</c> options.
/// </summary>
internal static class AppConfiguration
{
    public const string SystemConfigFile = "/etc/s3block/s3block.json";
    public const string EnvironmentPrefix = "S3BLOCK_";

    public static IConfigurationRoot Build(string? configFile, IReadOnlyList<string> overrides)
    {
        if (configFile is not null && !File.Exists(configFile))
        {
            throw new ConfigurationProblemException($"--config: file '{configFile}' does not exist");
        }

        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile(SystemConfigFile, optional: true);
        if (configFile is not null)
        {
            builder.AddJsonFile(Path.GetFullPath(configFile), optional: false);
        }

        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddInMemoryCollection(ParseOverrides(overrides));
        try
        {
            var configuration = builder.Build();
            SizeSettings.Normalize(configuration);
            return configuration;
        }
        catch (InvalidDataException e)
        {
            throw new ConfigurationProblemException($"configuration file: {e.Message}");
        }
    }

    private static IEnumerable<KeyValuePair<string, string?>> ParseOverrides(IReadOnlyList<string> overrides)
    {
        foreach (var item in overrides)
        {
            var eq = item.IndexOf('=');
            if (eq <= 0)
            {
                throw new ConfigurationProblemException($"--set: '{item}' is not Key=Value (e.g. --set Store:Kind=s3)");
            }

            yield return new(item[..eq], item[(eq + 1)..]);
        }
    }
}
