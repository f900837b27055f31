using System.CommandLine;

namespace S3Block.Ublk.Cli;

/// <summary>Every verb of the CLI, in the order <c>--help</c> lists them.</summary>
internal static class CliCommands
{
    public static IEnumerable<Command> All()
    {
        yield return CreateCommand.Create();
        yield return ListCommand.Create();
        yield return RunCommand.Create();
        yield return RecoverCommand.Create();
        yield return DeleteCommand.Create();
        yield return StatusCommand.Create();
        yield return FlushCommand.Create();
        yield return ServeBackendCommand.Create();
        yield return StoreCheckCommand.Create();
        yield return GuardCommand.Create();
    }
}
