using System.CommandLine;
using S3Block.Ublk.Cli;
using Ublk.Server.Device;

// A daemon verb re-executes itself here with IO_FLUSHER set, so that every thread of the runtime inherits it
// (Device/ProcessIoFlusher.cs). Nothing may run before this: output, threads, files.
ProcessIoFlusher.EnsureBeforeRuntimeThreads(servesDevice: CliCommands.ServesDevice(args));

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
