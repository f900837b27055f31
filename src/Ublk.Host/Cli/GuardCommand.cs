using System.CommandLine;
using S3Block.Ublk.Daemon;

namespace S3Block.Ublk.Cli;

/// <summary><c>s3block guard</c> (hidden): the recovery-deadline guard that a daemon starts for its device
/// (<see cref="DeviceDeadlineGuard"/>). Not for people: every argument comes from the daemon.</summary>
internal static class GuardCommand
{
    private static readonly Option<string> Volume = new("--volume") { Required = true };

    private static readonly Option<int> Device = new("--device") { Required = true };

    private static readonly Option<ulong> OwnerTag = new("--owner-tag") { Required = true };

    private static readonly Option<int> DaemonPid = new("--daemon-pid") { Required = true };

    private static readonly Option<TimeSpan> Deadline = new("--deadline") { Required = true };

    private static readonly Option<string> State = new("--state") { Required = true };

    public static Command Create()
    {
        var command = new Command(DeviceDeadlineGuard.Verb, "Stop a device that has had no daemon for the deadline (started by 'run').")
        {
            Volume, Device, OwnerTag, DaemonPid, Deadline, State,
        };
        command.Hidden = true;
        command.SetAction(parse => DeviceDeadlineGuard.Run(
            new GuardArguments(parse.GetValue(Volume)!, parse.GetValue(Device), parse.GetValue(OwnerTag), parse.GetValue(DaemonPid),
                parse.GetValue(Deadline), parse.GetValue(State)!)));
        return command;
    }
}
