using System.CommandLine;
using S3Block.Ublk.Daemon;

namespace S3Block.Ublk.Cli;

/// <summary><c>s3block guard</c> (hidden): the recovery-deadline guard that <c>run</c> starts beside the daemon
/// (<see cref="DeviceDeadlineGuard"/>). Not for people: every argument comes from the daemon.</summary>
internal static class GuardCommand
{
    private static readonly Option<string> Volume = new("--volume") { Required = true };

    private static readonly Option<int> Device = new("--device") { Required = true };

    private static readonly Option<int> DaemonPid = new("--daemon-pid") { Required = true };

    private static readonly Option<TimeSpan> Deadline = new("--deadline") { Required = true };

    private static readonly Option<string> Lock = new("--lock") { Required = true };

    public static Command Create()
    {
        var command = new Command(DeviceDeadlineGuard.Verb, "Stop a device whose daemon is gone once no daemon came back within the deadline (started by 'run').")
        {
            Volume, Device, DaemonPid, Deadline, Lock,
        };
        command.Hidden = true;
        command.SetAction(parse => DeviceDeadlineGuard.Run(parse.GetValue(Volume)!, parse.GetValue(Device), parse.GetValue(DaemonPid),
            parse.GetValue(Deadline), parse.GetValue(Lock)!, Console.Error));
        return command;
    }
}
