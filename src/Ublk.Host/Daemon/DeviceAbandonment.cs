using Ublk.Server.Device;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Daemon;

/// <summary>What the recovery-deadline guard does after one look at its device.</summary>
internal enum GuardVerdict
{
    /// <summary>Keep watching.</summary>
    Watch,

    /// <summary>Nothing left to guard: the device is gone, stopped, or no longer this volume's.</summary>
    Done,

    /// <summary>The device has had no daemon for the whole deadline: stop it.</summary>
    Stop,
}

/// <summary>
/// The recovery-deadline guard's judgement (<see cref="DeviceDeadlineGuard"/>), apart from the kernel and the clock so
/// that it can be tested: from successive looks at one device (GET_DEV_INFO), how long it has had no daemon.
/// </summary>
/// <remarks>
/// <para>The kernel's state is the authority, not the process table: a device is served while it is LIVE (a daemon
/// runs its queues) and unserved while QUIESCED or FAIL_IO (its daemon died; I/O waits). Only a daemon that makes it
/// LIVE again restarts the clock.</para>
/// <para>The clock does not wait for a daemon that is merely starting, and a new guard does not restart it: a guard
/// that takes over from another inherits the moment the device lost its daemon (<paramref name="inheritedSince"/>), so
/// a crash loop of daemons that each start a guard and die before re-attaching still ends at the deadline.</para>
/// <para>DEAD before the device was ever seen served is a device being created (ADD_DEV done, START_DEV not yet): it is
/// watched while the daemon that creates it lives. DEAD afterwards is a stopped device: nothing left to guard.</para>
/// <para>Times are milliseconds of the system's monotonic clock (<see cref="Environment.TickCount64"/>): a step of the
/// wall clock (NTP right after boot) must not end a deadline early.</para>
/// </remarks>
/// <param name="ownerTag">The volume's owner tag on the device.</param>
/// <param name="deadline">How long the device may have no daemon.</param>
/// <param name="inheritedSince">When a previous guard saw the device lose its daemon (null if none did, or a daemon
/// served it since). Asked when this guard first sees the device unserved, not before: a daemon that re-attached the
/// device meanwhile has cleared it.</param>
internal sealed class DeviceAbandonment(ulong ownerTag, TimeSpan deadline, Func<long?>? inheritedSince = null)
{
    private bool _started;
    private bool _seenServed;

    /// <summary>Since when (monotonic ms) the device has had no daemon; null while it is served.</summary>
    public long? UnservedSince { get; private set; }

    /// <summary>When (monotonic ms) the device is stopped unless a daemon re-attaches it first; null while it is served.</summary>
    public long? StopsAt => UnservedSince + (long)deadline.TotalMilliseconds;

    /// <summary>Judges one look at the device.</summary>
    /// <param name="status">What the kernel says about the device; null if there is no such device.</param>
    /// <param name="creatorRunning">Whether the daemon that started this guard still runs.</param>
    /// <param name="now">The time of the look (monotonic ms).</param>
    /// <returns>What to do, and a sentence for the log when something changed (null otherwise).</returns>
    public (GuardVerdict Verdict, string? Change) Observe(UblkDeviceStatus? status, bool creatorRunning, long now)
    {
        if (status is null)
        {
            return (GuardVerdict.Done, "it no longer exists");
        }

        if (status.ServerTag != ownerTag)
        {
            return (GuardVerdict.Done, "it is no longer this volume's device (another owner tag)");
        }

        switch (status.State)
        {
            case UblkDevState.Live:
                _started = true;
                _seenServed = true;
                if (UnservedSince is null)
                {
                    return (GuardVerdict.Watch, null);
                }

                UnservedSince = null;
                return (GuardVerdict.Watch, $"it is served again (daemon pid {status.ServerPid})");

            case UblkDevState.Dead:
                return !_started && creatorRunning && inheritedSince?.Invoke() is null
                    ? (GuardVerdict.Watch, null)
                    : (GuardVerdict.Done, "it is stopped");

            default: // Quiesced, FailIo, or a state this build does not know: no daemon serves it.
                _started = true;
                if (UnservedSince is null)
                {
                    UnservedSince = !_seenServed && inheritedSince?.Invoke() is { } inherited && inherited <= now ? inherited : now;
                    return (GuardVerdict.Watch, "no daemon serves it");
                }

                return (now - UnservedSince.Value >= (long)deadline.TotalMilliseconds ? GuardVerdict.Stop : GuardVerdict.Watch, null);
        }
    }
}
