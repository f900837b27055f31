using System.CommandLine;

namespace S3Block.Ublk.Cli;

/// <summary>The options every command that reads configuration takes.</summary>
internal static class CommonOptions
{
    public static readonly Option<string?> Config = new("--config", "-c")
    {
        Description = "A JSON configuration file (e.g. /etc/s3block/vol1.json); overrides appsettings.json and /etc/s3block/s3block.json.",
    };

    public static readonly Option<string[]> Set = new("--set")
    {
        Description = "Override one setting, Key=Value with ':' between sections (e.g. --set Store:Kind=s3). Repeatable.",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static void AddTo(Command command)
    {
        command.Options.Add(Config);
        command.Options.Add(Set);
    }
}
