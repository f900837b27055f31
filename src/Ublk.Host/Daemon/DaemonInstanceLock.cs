using System.Globalization;
using S3Block.Volume;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// One daemon per volume and state folder: an exclusive lock on <c>&lt;state&gt;/&lt;volume&gt;/daemon.lock</c>, taken
/// before anything touches S3 or the kernel and held until the process exits.
/// </summary>
/// <remarks>
/// The S3 lease cannot tell two daemons that share a state folder apart: they share the node identity, so the second
/// would take the lease as "its own crashed predecessor" (fencing the first, which is serving) and try to recover the
/// first one's live device. The lock refuses it first. <see cref="FileShare.None"/> is an exclusive <c>flock</c> on
/// Linux, which the kernel drops when the process dies, so a crashed daemon never leaves a stale lock behind.
/// </remarks>
internal sealed class DaemonInstanceLock : IDisposable
{
    private readonly FileStream _file;

    private DaemonInstanceLock(FileStream file) => _file = file;

    /// <summary>How long <see cref="Acquire"/> retries a held lock: the deadline guard takes it for a moment to look
    /// whether a daemon runs, and for a few seconds while it stops an abandoned device.</summary>
    private static readonly TimeSpan BusyRetry = TimeSpan.FromSeconds(10);

    /// <exception cref="VolumeInUseException">Another daemon holds the lock.</exception>
    public static DaemonInstanceLock Acquire(string path, string volume)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        FileStream? file;
        while ((file = TryOpenExclusive(path, FileMode.OpenOrCreate)) is null)
        {
            if (clock.Elapsed >= BusyRetry || HeldByDaemon(path))
            {
                var holder = ReadHolder(path);
                throw new VolumeInUseException(
                    $"volume '{volume}' is already served by another s3block on this host{(holder is null ? "" : $" (pid {holder})")}, " +
                    $"which holds {Path.GetFullPath(path)}");
            }

            Thread.Sleep(50);
        }

        // Who holds it, for the message above (informational: the flock is what counts). A sibling file, because .NET
        // opens any file with a shared flock, which the holder's exclusive one refuses.
        File.WriteAllText(PidPath(path), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        return new DaemonInstanceLock(file);
    }

    /// <summary>
    /// For the deadline guard: takes the lock if nobody holds it, without creating the file or claiming the pid file.
    /// Null with <paramref name="held"/> true while a daemon (or another guard) holds it; null with it false when
    /// there is no lock file (the volume's state folder is gone).
    /// </summary>
    public static DaemonInstanceLock? TryTakeExisting(string path, out bool held)
    {
        try
        {
            var file = TryOpenExclusive(path, FileMode.Open);
            held = file is null;
            return file is null ? null : new DaemonInstanceLock(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            held = false;
            return null;
        }
    }

    public void Dispose() => _file.Dispose();

    /// <summary>An exclusive flock (FileShare.None) on the file, or null if someone else holds a lock on it.</summary>
    private static FileStream? TryOpenExclusive(string path, FileMode mode)
    {
        try
        {
            return new FileStream(path, mode, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException))
        {
            return null;
        }
    }

    /// <summary>Whether the pid file names a running daemon: then waiting cannot help. (A guard never writes it, so
    /// while a guard holds the lock the file names the dead daemon before it.)</summary>
    private static bool HeldByDaemon(string lockPath) =>
        ReadHolder(lockPath) is { } pid && int.TryParse(pid, out var number) && global::Ublk.Server.Device.UblkDevice.IsProcessRunning(number);

    private static string PidPath(string lockPath) => Path.ChangeExtension(lockPath, ".pid");

    private static string? ReadHolder(string lockPath)
    {
        try
        {
            var pid = File.ReadAllText(PidPath(lockPath)).Trim();
            return pid.Length == 0 ? null : pid;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
