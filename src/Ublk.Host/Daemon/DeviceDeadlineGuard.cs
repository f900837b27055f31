using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Logging;
using Ublk.Server.Device;
using Ublk.Server.Interop;
using Tmds.Linux;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// Fails the I/O of a device whose daemon is gone for good, instead of letting it hang for ever: a small process
/// (<c>s3block guard</c>) that <c>run</c> starts beside the daemon once the device serves. When the daemon is gone and
/// no daemon of the volume has run for <see cref="DaemonOptions.RecoveryDeadline"/>, it stops the device (STOP_DEV on
/// a quiesced device fails every queued request, then removes the disk) and deletes it.
/// </summary>
/// <remarks>
/// <para>The kernel would do this itself with <c>UBLK_F_USER_RECOVERY_FAIL_IO</c> (6.13+), but that flag fails I/O at
/// once while no daemon runs, also during an ordinary restart; Debian's 6.12 has no deadline of its own. So the guard
/// stands outside the daemon, which it must survive: it is the daemon's child in a session of its own, and the systemd
/// unit uses <c>KillMode=process</c> so that a crash of the daemon does not take the guard with it.</para>
/// <para>"A daemon runs" is the volume's instance lock (<see cref="DaemonInstanceLock"/>), which every daemon takes
/// first thing: a daemon coming back, however long its journal replay or its wait for S3, holds it and restarts the
/// clock. The guard takes the lock itself while it stops the device, so a daemon starting at that moment waits and
/// then creates a new device instead of recovering a half-stopped one. The guard ends when the device is gone, when
/// another daemon re-attached it (the device's server pid changed; that daemon has a guard of its own) or after
/// stopping it.</para>
/// </remarks>
internal static partial class DeviceDeadlineGuard
{
    /// <summary>The hidden verb that runs the guard.</summary>
    public const string Verb = "guard";

    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    /// <summary>Starts the guard for the device this process serves, unless the deadline is off, and returns it (null
    /// when there is none). Never throws: a daemon without a guard still serves (and says so).</summary>
    public static Process? Start(DaemonOptions daemon, UblkDeviceInfo device, ILogger logger)
    {
        if (daemon.RecoveryDeadline <= TimeSpan.Zero)
        {
            return null;
        }

        try
        {
            // Working directory "/": the guard may outlive the daemon, and must not keep the file system the daemon
            // was started in busy (an umount right after the daemon's stop would fail).
            var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, WorkingDirectory = "/" };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            {
                start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location); // "dotnet s3block.dll"
            }

            foreach (var argument in (string[])[Verb,
                         "--volume", daemon.Volume,
                         "--device", device.DeviceId.ToString(CultureInfo.InvariantCulture),
                         "--daemon-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
                         "--deadline", daemon.RecoveryDeadline.ToString("c", CultureInfo.InvariantCulture),
                         "--lock", Path.GetFullPath(daemon.InstanceLockPath)])
            {
                start.ArgumentList.Add(argument);
            }

            // stdout/stderr are inherited: the guard's lines land where the daemon's do (the unit's journal, a terminal).
            var guard = Process.Start(start)!;
            GuardLog.Started(logger, guard.Id, device.BlockDevicePath, daemon.RecoveryDeadline);
            return guard;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            GuardLog.NotStarted(logger, e, device.BlockDevicePath);
            return null;
        }
    }

    /// <summary>Ends the guard once its device is deleted: there is nothing left to guard, and after a clean stop no
    /// process of the daemon may linger (an umount of the state folder's file system, systemd's cgroup).</summary>
    public static void Stop(Process? guard)
    {
        if (guard is null)
        {
            return;
        }

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

    /// <summary>The guard's body (<c>s3block guard</c>). Returns when there is nothing left to guard.</summary>
    public static int Run(string volume, int deviceId, int daemonPid, TimeSpan deadline, string lockPath, TextWriter log)
    {
        // A session of its own: Ctrl+C in the daemon's terminal (SIGINT to the foreground process group) is not for it.
        _ = LibC.setsid();
        var device = UblkConstants.BlockDevicePath(deviceId);

        // While the daemon (the parent) lives there is nothing to do; once it is gone this process has a new parent.
        while (LibC.getppid() == daemonPid)
        {
            Thread.Sleep(Poll);
        }

        using var control = UblkControl.Open();
        var sinceDaemon = Stopwatch.StartNew();
        while (true)
        {
            if (!StillAbandoned(control, deviceId, daemonPid, out var state))
            {
                return 0;
            }

            using (var taken = DaemonInstanceLock.TryTakeExisting(lockPath, out var held))
            {
                if (held)
                {
                    sinceDaemon.Restart(); // a daemon of the volume is (re)starting: it recovers the device, not us
                }
                else if (sinceDaemon.Elapsed >= deadline && state == UblkDevState.Quiesced
                         && StillAbandoned(control, deviceId, daemonPid, out state) && state == UblkDevState.Quiesced)
                {
                    log.WriteLine($"s3block guard: no daemon has served volume {volume} for {deadline:c} (Daemon:RecoveryDeadline): " +
                                  $"stopping {device}, whose waiting and new I/O now fails. What the daemon acknowledged is in its " +
                                  "journal; the next 'run' of the volume uploads it.");
                    log.Flush();
                    UblkDevice.DeleteExisting(deviceId);
                    // The record would send the next daemon of this volume to device id N, which the kernel may by
                    // then have given to another volume: without it, that daemon creates a device of its own.
                    var record = Path.Combine(Path.GetDirectoryName(lockPath)!, DeviceRecord.FileName);
                    try
                    {
                        if (DeviceRecord.Read(record)?.DeviceId == deviceId)
                        {
                            File.Delete(record);
                        }
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        log.WriteLine($"s3block guard: could not remove {record}: {e.Message}");
                    }

                    log.WriteLine($"s3block guard: stopped and deleted {device} (device {deviceId}) of volume {volume}");
                    return 0;
                }
            }

            Thread.Sleep(Poll);
        }
    }

    /// <summary>Whether the device still waits for a server after <paramref name="daemonPid"/>: it exists, was not
    /// re-attached by another daemon (that changes its pid) and was not stopped.</summary>
    private static bool StillAbandoned(UblkControl control, int deviceId, int daemonPid, out UblkDevState state)
    {
        var status = control.TryGetStatus(deviceId);
        state = status?.State ?? UblkDevState.Dead;
        return status is not null && status.ServerPid == daemonPid && state != UblkDevState.Dead;
    }

    private static partial class GuardLog
    {
        [LoggerMessage(4006, LogLevel.Information,
            "Started the recovery-deadline guard (pid {Pid}): if this daemon dies and none comes back within {Deadline}, it stops {Device} so that its I/O fails instead of hanging",
            EventName = "GuardStarted")]
        public static partial void Started(ILogger logger, int pid, string device, TimeSpan deadline);

        [LoggerMessage(4007, LogLevel.Warning,
            "Could not start the recovery-deadline guard: if this daemon dies and none comes back, I/O to {Device} waits for ever",
            EventName = "GuardNotStarted")]
        public static partial void NotStarted(ILogger logger, Exception exception, string device);
    }
}
