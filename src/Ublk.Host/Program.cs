using System.CommandLine;
using S3Block.Ublk.Cli;

// The `s3block` executable: one verb per file under Cli/.
var root = new RootCommand("""
    s3block: a Linux block device (ublk) whose data lives in S3, behind a local write-back cache and flush journal.
    Run 's3block COMMAND --help' for a command's options and examples.
    """);
foreach (var command in CliCommands.All())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
