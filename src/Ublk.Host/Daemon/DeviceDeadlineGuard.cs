using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Ublk.Server.Device;
using Ublk.Server.Interop;
using Tmds.Linux;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// Fails the I/O of a device whose daemon is gone for good, instead of letting it hang for ever: a small process
/// (<c>s3block guard</c>) that a daemon starts for its device right before it creates (START_DEV) or re-attaches it.
/// Once the device has had no daemon for <see cref="DaemonOptions.RecoveryDeadline"/> it stops the device (STOP_DEV on a
/// quiesced device fails every queued request, then removes the disk) and deletes it.
/// </summary>
/// <remarks>
/// <para>The kernel would do this itself with <c>UBLK_F_USER_RECOVERY_FAIL_IO</c> (6.13+), but that flag fails I/O at
/// once while no daemon runs, also during an ordinary restart; Debian's 6.12 has no deadline of its own. So the guard
/// stands outside the daemon, which it must survive: it is the daemon's child in a session of its own, and the systemd
/// unit uses <c>KillMode=process</c> so that a crash of the daemon does not take the guard with it.</para>
/// <para>One guard per device (<see cref="DeviceGuardLock"/>), the newest: a daemon that re-attaches the device starts
/// its own guard (with its own deadline and its own program) before it touches the device, and that guard ends its
/// predecessor's and takes over, so there is no moment between two daemons without a guard. The daemon starts a new
/// one should its guard die. What counts is the kernel's state of the device (<see cref="DeviceAbandonment"/>), not
/// the volume's instance lock: a daemon stuck in its start holds that lock for ever. A daemon that is re-attaching the
/// device holds <c>recover.N.lock</c> meanwhile, and the guard stops the device only under that lock, so it never stops
/// one in the middle of its recovery.</para>
/// <para>It runs with IO_FLUSHER and its memory locked (mlockall): at the deadline it must not wait on reclaim or swap
/// that may involve the stuck device. Its lines go to <c>guard.log</c> in the volume's state folder, and also to the
/// journal under systemd; never to the daemon's terminal or pipe, which may be gone long before the guard ends (a
/// failed write must not end it) or which would keep a pipe's reader waiting for the guard too.</para>
/// </remarks>
internal static partial class DeviceDeadlineGuard
{
    /// <summary>The hidden verb that runs the guard.</summary>
    public const string Verb = "guard";

    /// <summary>The guard's log, in the volume's state folder.</summary>
    public const string LogFileName = "guard.log";

    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    /// <summary>How long a new guard waits for its predecessor to end.</summary>
    private static readonly TimeSpan TakeOverWait = TimeSpan.FromSeconds(10);

    /// <summary>Starts the guard for device <paramref name="deviceId"/> (it ends a guard a previous daemon left for it) and
    /// returns it; with the deadline off it starts none and ends any. Never throws: a daemon without a guard still
    /// serves (and says so).</summary>
    public static Process? Start(DaemonOptions daemon, int deviceId, ulong ownerTag, ILogger logger)
    {
        var device = UblkConstants.BlockDevicePath(deviceId);
        try
        {
            if (daemon.RecoveryDeadline <= TimeSpan.Zero)
            {
                if (DeviceGuardLock.IsHeld(DeviceGuardLock.PathFor(daemon.VolumeStateFolder, deviceId)))
                {
                    DeviceGuardLock.EndHolder(daemon.VolumeStateFolder, deviceId, TakeOverWait);
                    GuardLog.EndedForOff(logger, device);
                }

                return null;
            }

            // Working directory "/": the guard may outlive the daemon, and must not keep the file system the daemon
            // was started in busy (an umount right after the daemon's stop would fail). Its output is its own (it
            // replaces 0, 1 and 2 first thing), and it runs with IO_FLUSHER like the daemon (Program re-executes it).
            var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, WorkingDirectory = "/" };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            {
                start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "s3block.dll")); // "dotnet s3block.dll"
            }

            foreach (var argument in (string[])[Verb,
                         "--volume", daemon.Volume,
                         "--device", deviceId.ToString(CultureInfo.InvariantCulture),
                         "--owner-tag", ownerTag.ToString(CultureInfo.InvariantCulture),
                         "--daemon-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
                         "--deadline", daemon.RecoveryDeadline.ToString("c", CultureInfo.InvariantCulture),
                         "--state", Path.GetFullPath(daemon.VolumeStateFolder)])
            {
                start.ArgumentList.Add(argument);
            }

            var guard = Process.Start(start)!;
            GuardLog.Started(logger, guard.Id, device, daemon.RecoveryDeadline, Path.Combine(daemon.VolumeStateFolder, LogFileName));
            return guard;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException
                                      or UnauthorizedAccessException)
        {
            GuardLog.NotStarted(logger, e, device);
            return null;
        }
    }

    /// <summary>While the daemon serves: starts a new guard if the one it started has died (killed, OOM); returns the
    /// guard to keep.</summary>
    public static Process? Restart(Process? guard, DaemonOptions daemon, int deviceId, ulong ownerTag, ILogger logger)
    {
        if (daemon.RecoveryDeadline <= TimeSpan.Zero || guard is { HasExited: false })
        {
            return guard;
        }

        GuardLog.Died(logger, UblkConstants.BlockDevicePath(deviceId), guard?.ExitCode);
        guard?.Dispose();
        return Start(daemon, deviceId, ownerTag, logger);
    }

    /// <summary>After a clean stop deleted the device: ends the guard, so that no process of the daemon lingers (an
    /// umount of the state folder's file system, systemd's cgroup).</summary>
    public static void AwaitEnd(Process? guard, DaemonOptions daemon, int deviceId, ILogger logger)
    {
        if (guard is not null)
        {
            using (guard)
            {
                try
                {
                    guard.Kill();
                    guard.WaitForExit(TimeSpan.FromSeconds(5));
                }
                catch (InvalidOperationException)
                {
                    // It has exited already.
                }
            }
        }

        if (!DeviceGuardLock.EndHolder(daemon.VolumeStateFolder, deviceId, TimeSpan.FromSeconds(5)))
        {
            GuardLog.StillRunning(logger, UblkConstants.BlockDevicePath(deviceId));
        }
    }

    /// <summary>The guard's body (<c>s3block guard</c>). Returns when there is nothing left to guard.</summary>
    public static int Run(GuardArguments arguments)
    {
        // A session of its own: Ctrl+C in the daemon's terminal (SIGINT to the foreground process group) is not for it.
        _ = LibC.setsid();
        using var log = GuardOutput.Open(Path.Combine(arguments.VolumeFolder, LogFileName));
        var device = UblkConstants.BlockDevicePath(arguments.DeviceId);
        if (ProcessMemoryLock.TryLockAllOnFault() is { } notLocked)
        {
            log.Say($"{device}: {notLocked}; the guard's memory may be swapped out");
        }

        FileStream? guardLock = null;
        UblkControl? control = null;
        try
        {
            // Until it holds its lock and the control device, it retries like any other round: a guard that gave up
            // here (a full state disk) after ending its predecessor would leave the device unguarded.
            while (guardLock is null || control is null)
            {
                try
                {
                    guardLock ??= TakeOver(arguments, log);
                    control ??= guardLock is null ? null : UblkControl.Open();
                }
                catch (Exception e)
                {
                    log.SayOnce($"{device}: {e.GetType().Name}: {e.Message} (trying again)");
                }

                if (guardLock is null || control is null)
                {
                    // Until then the previous guard (if any) still guards the device.
                    Thread.Sleep(Poll);
                }
            }

            return Watch(control, arguments, log);
        }
        finally
        {
            control?.Dispose();
            guardLock?.Dispose();
        }
    }

    /// <summary>Takes the device's guard lock; the newest guard wins, so the one a previous daemon left (it may run
    /// another program or deadline) is ended, but only under the device's recovery lock, which that guard holds while it
    /// stops the device: never in the middle of a stop. Null when not yet (the caller tries again; meanwhile the previous
    /// guard still guards).</summary>
    private static FileStream? TakeOver(GuardArguments arguments, GuardOutput log)
    {
        var lockPath = DeviceGuardLock.PathFor(arguments.VolumeFolder, arguments.DeviceId);
        var guardLock = DeviceGuardLock.TryTake(lockPath);
        if (guardLock is null)
        {
            using var recovery = DeviceGuardLock.TryTake(DeviceGuardLock.RecoveryPathFor(arguments.VolumeFolder, arguments.DeviceId));
            if (recovery is null)
            {
                return null; // A daemon is re-attaching the device, or the previous guard is stopping it.
            }

            guardLock = DeviceGuardLock.EndHolder(arguments.VolumeFolder, arguments.DeviceId, TakeOverWait)
                ? DeviceGuardLock.Take(lockPath, TakeOverWait)
                : null;
            if (guardLock is null)
            {
                log.SayOnce($"{UblkConstants.BlockDevicePath(arguments.DeviceId)}: the previous guard of volume {arguments.Volume} has not ended yet");
                return null;
            }
        }

        try
        {
            DeviceGuardLock.WritePid(arguments.VolumeFolder, arguments.DeviceId);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The next guard then cannot end this one and keeps waiting (this one guards meanwhile); say why.
            log.Say($"could not record the guard's pid, so the next daemon's guard cannot take over: {e.Message}");
        }

        return guardLock;
    }

    private static int Watch(UblkControl control, GuardArguments arguments, GuardOutput log)
    {
        var device = UblkConstants.BlockDevicePath(arguments.DeviceId);
        var abandonment = new DeviceAbandonment(arguments.OwnerTag, arguments.Deadline, () => GuardClock.Read(arguments.VolumeFolder, arguments.DeviceId));
        long? deferredSince = null;
        while (true)
        {
            try
            {
                var (verdict, change) = Look(control, abandonment, arguments);
                if (change is not null)
                {
                    log.Say($"{device} of volume {arguments.Volume}: {change}" + (verdict == GuardVerdict.Watch && abandonment.StopsAt is { } at
                        ? $" since {WallClock(abandonment.UnservedSince!.Value):HH:mm:ss}Z; unless a daemon re-attaches it by " +
                          $"{WallClock(at):HH:mm:ss}Z (Daemon:RecoveryDeadline {arguments.Deadline:c}), it is stopped then and its I/O fails"
                        : ""));
                }

                // The clock outlives this guard: a guard taking over keeps it until a daemon serves the device again.
                // Checked every round, so a failed write or one a daemon's clear raced with is put right.
                if (verdict == GuardVerdict.Watch)
                {
                    var recorded = GuardClock.Read(arguments.VolumeFolder, arguments.DeviceId);
                    if (abandonment.UnservedSince is { } since && recorded != since)
                    {
                        GuardClock.Write(arguments.VolumeFolder, arguments.DeviceId, since);
                    }
                    else if (abandonment.UnservedSince is null && recorded is not null)
                    {
                        GuardClock.Clear(arguments.VolumeFolder, arguments.DeviceId);
                    }
                }

                if (verdict != GuardVerdict.Stop)
                {
                    deferredSince = null;
                }

                if (verdict == GuardVerdict.Done
                    || (verdict == GuardVerdict.Stop && StopIfStillAbandoned(control, abandonment, arguments, log, ref deferredSince)))
                {
                    return 0;
                }
            }
            catch (Exception e)
            {
                // Whatever went wrong in this round (a control command, the state folder's disk), the guard is the
                // device's only way out of a hang: it keeps trying.
                log.SayOnce($"{device}: {e.GetType().Name}: {e.Message} (trying again)");
            }

            Thread.Sleep(Poll);
        }
    }

    /// <summary>The wall-clock time of a monotonic <see cref="Environment.TickCount64"/> time, for the log.</summary>
    private static DateTimeOffset WallClock(long monotonicMs) => DateTimeOffset.UtcNow.AddMilliseconds(monotonicMs - Environment.TickCount64);

    private static (GuardVerdict Verdict, string? Change) Look(UblkControl control, DeviceAbandonment abandonment, GuardArguments arguments) =>
        abandonment.Observe(control.TryGetStatus(arguments.DeviceId), UblkDevice.IsProcessRunning(arguments.DaemonPid), Environment.TickCount64);

    /// <summary>How long past the deadline the guard waits for a daemon that is re-attaching the device (it holds the
    /// recovery lock) before it stops the device anyway: a daemon stuck inside its recovery must not keep it hanging.</summary>
    private static readonly TimeSpan RecoveryGrace = TimeSpan.FromSeconds(60);

    /// <summary>Stops and deletes the device unless a daemon re-attaches it or re-attached it meanwhile: looked at again
    /// under the device's recovery lock (and the volume's instance lock, when it is free). True when it was stopped.</summary>
    private static bool StopIfStillAbandoned(
        UblkControl control, DeviceAbandonment abandonment, GuardArguments arguments, GuardOutput log, ref long? deferredSince)
    {
        var device = UblkConstants.BlockDevicePath(arguments.DeviceId);
        using var recovery = DeviceGuardLock.TryTake(DeviceGuardLock.RecoveryPathFor(arguments.VolumeFolder, arguments.DeviceId));
        if (recovery is null)
        {
            // A daemon is re-attaching it right now: give it a while, not for ever.
            deferredSince ??= Environment.TickCount64;
            if (Environment.TickCount64 - deferredSince.Value < (long)RecoveryGrace.TotalMilliseconds)
            {
                return false;
            }

            log.Say($"{device}: a daemon has been re-attaching it for {RecoveryGrace.TotalSeconds:F0} s past the deadline: it is stuck");
        }

        using var instance = DaemonInstanceLock.TryTakeExisting(Path.Combine(arguments.VolumeFolder, DaemonOptions.InstanceLockFileName), out var held);
        if (Look(control, abandonment, arguments).Verdict != GuardVerdict.Stop)
        {
            return false;
        }

        log.Say($"no daemon has served volume {arguments.Volume} for {arguments.Deadline:c} (Daemon:RecoveryDeadline)" +
                (held ? " and the daemon that is starting (it holds the volume's instance lock) has not re-attached it" : "") +
                $": stopping {device}, whose waiting and new I/O now fails. What the daemon acknowledged is in its journal; " +
                "the next 'run' of the volume uploads it.");
        // First the record, which would send the next daemon of this volume to device id N, which the kernel may then
        // give to another device: only this boot's record of this binding for this id.
        var record = Path.Combine(arguments.VolumeFolder, DeviceRecord.FileName);
        try
        {
            if (DeviceRecord.Read(record) is { } recorded && recorded.DeviceId == arguments.DeviceId
                && recorded.Tag == arguments.OwnerTag && recorded.BootId == BootId.Current)
            {
                File.Delete(record);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Say($"could not remove {record}: {e.Message}");
        }

        UblkDevice.DeleteExisting(arguments.DeviceId);
        GuardClock.Clear(arguments.VolumeFolder, arguments.DeviceId);
        log.Say($"stopped and deleted {device} (device {arguments.DeviceId}) of volume {arguments.Volume}");
        return true;
    }

    private static partial class GuardLog
    {
        [LoggerMessage(4020, LogLevel.Information,
            "Started the recovery-deadline guard (pid {Pid}): if {Device} has no daemon for {Deadline}, it stops the device so that its I/O fails instead of hanging (its log: {Log})",
            EventName = "GuardStarted")]
        public static partial void Started(ILogger logger, int pid, string device, TimeSpan deadline, string log);

        [LoggerMessage(4021, LogLevel.Warning,
            "Could not start the recovery-deadline guard: if this daemon dies and none comes back, I/O to {Device} waits for ever",
            EventName = "GuardNotStarted")]
        public static partial void NotStarted(ILogger logger, Exception exception, string device);

        [LoggerMessage(4022, LogLevel.Information,
            "Ended the recovery-deadline guard of {Device} that a previous daemon started: Daemon:RecoveryDeadline is 0 (I/O waits for a daemon for ever)",
            EventName = "GuardEndedForOff")]
        public static partial void EndedForOff(ILogger logger, string device);

        [LoggerMessage(4023, LogLevel.Warning,
            "The recovery-deadline guard of {Device} still runs 5 s after the device was deleted; it ends by itself once it sees that",
            EventName = "GuardStillRunning")]
        public static partial void StillRunning(ILogger logger, string device);

        [LoggerMessage(4024, LogLevel.Warning,
            "The recovery-deadline guard of {Device} has ended (exit code {ExitCode}) while the device is served: starting a new one",
            EventName = "GuardDied")]
        public static partial void Died(ILogger logger, string device, int? exitCode);
    }
}
