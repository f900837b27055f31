using System.Globalization;
using Tmds.Linux;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// The locks around a device's recovery-deadline guard, in the volume's state folder: <c>guard.N.lock</c>, held by the
/// guard of device N for as long as it runs (its pid in <c>guard.N.pid</c>), and <c>recover.N.lock</c>, held by a
/// daemon while it re-attaches device N, so that the guard never stops a device in the middle of its recovery.
/// </summary>
/// <remarks>The kernel drops a lock when its holder dies. The files are never deleted: unlinking a lock file races with
/// a process about to lock it, and there is one small file per device id the volume ever had.</remarks>
internal static class DeviceGuardLock
{
    public static string PathFor(string volumeFolder, int deviceId) => Path.Combine(volumeFolder, $"guard.{deviceId}.lock");

    public static string PidPathFor(string volumeFolder, int deviceId) => Path.Combine(volumeFolder, $"guard.{deviceId}.pid");

    public static string RecoveryPathFor(string volumeFolder, int deviceId) => Path.Combine(volumeFolder, $"recover.{deviceId}.lock");

    /// <summary>Takes the lock, or returns null if another process holds it. Other failures (a read-only or failing
    /// disk) throw: they do not mean that someone holds it.</summary>
    public static FileStream? TryTake(string path)
    {
        try
        {
            // FileShare.None is an exclusive flock(LOCK_NB) on Linux; a held lock fails with EWOULDBLOCK.
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e.HResult == LibC.EWOULDBLOCK)
        {
            return null;
        }
    }

    /// <summary>Takes the lock, waiting up to <paramref name="timeout"/>; null if it is still held then.</summary>
    public static FileStream? Take(string path, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (TryTake(path) is { } taken)
            {
                return taken;
            }

            if (clock.Elapsed >= timeout)
            {
                return null;
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>Whether a process holds the lock now.</summary>
    public static bool IsHeld(string path)
    {
        using var taken = TryTake(path);
        return taken is null;
    }

    /// <summary>Waits until nobody holds the lock; false if someone still does after <paramref name="timeout"/>.</summary>
    public static bool WaitReleased(string path, TimeSpan timeout)
    {
        using var taken = Take(path, timeout);
        return taken is not null;
    }

    /// <summary>Records the guard's pid beside its lock (for <see cref="EndHolder"/>).</summary>
    public static void WritePid(string volumeFolder, int deviceId) =>
        File.WriteAllText(PidPathFor(volumeFolder, deviceId), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");

    /// <summary>
    /// Ends the guard of device N that holds the lock (SIGKILL: it holds nothing but the lock, which the kernel drops),
    /// after checking from its command line that the recorded pid is still that guard, and waits for the lock.
    /// </summary>
    /// <returns>True when nobody holds the lock any more.</returns>
    public static bool EndHolder(string volumeFolder, int deviceId, TimeSpan timeout)
    {
        var path = PathFor(volumeFolder, deviceId);
        if (!IsHeld(path))
        {
            return true;
        }

        if (ReadPid(volumeFolder, deviceId) is { } pid && IsGuardOf(pid, volumeFolder, deviceId))
        {
            _ = LibC.kill(pid, LibC.SIGKILL);
        }

        return WaitReleased(path, timeout);
    }

    private static int? ReadPid(string volumeFolder, int deviceId)
    {
        try
        {
            return int.TryParse(File.ReadAllText(PidPathFor(volumeFolder, deviceId)).Trim(), out var pid) && pid > 1 ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Whether process <paramref name="pid"/> runs <c>s3block guard</c> for this device of this volume (not a
    /// process that reused the pid).</summary>
    private static bool IsGuardOf(int pid, string volumeFolder, int deviceId)
    {
        try
        {
            var argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            var device = Array.IndexOf(argv, "--device");
            var state = Array.IndexOf(argv, "--state");
            return argv.Contains(DeviceDeadlineGuard.Verb)
                   && device >= 0 && device + 1 < argv.Length && argv[device + 1] == deviceId.ToString(CultureInfo.InvariantCulture)
                   && state >= 0 && state + 1 < argv.Length && argv[state + 1] == Path.GetFullPath(volumeFolder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
