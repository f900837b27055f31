using System.CommandLine;

namespace S3Block.Ublk.Cli;

/// <summary>Every verb of the CLI, in the order <c>--help</c> lists them.</summary>
internal static class CliCommands
{
    /// <summary>The verbs that serve a ublk device, or guard one (the recovery-deadline guard must act while the device
    /// is stuck): only these set IO_FLUSHER for the whole process (and pay for a second runtime start to do it, see
    /// <see cref="global::Ublk.Server.Device.ProcessIoFlusher"/>).</summary>
    private static readonly string[] DeviceServingVerbs = ["run", "recover", "serve-backend", "guard"];

    /// <summary>Whether this command line serves a device.</summary>
    public static bool ServesDevice(IReadOnlyList<string> args) => args.Count > 0 && DeviceServingVerbs.Contains(args[0]);

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
