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

    /// <exception cref="VolumeInUseException">Another daemon holds the lock.</exception>
    public static DaemonInstanceLock Acquire(string path, string volume)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var holder = ReadHolder(path);
            throw new VolumeInUseException(
                $"volume '{volume}' is already served by another s3block on this host{(holder is null ? "" : $" (pid {holder})")}, " +
                $"which holds {Path.GetFullPath(path)}");
        }

        // Who holds it, for the message above (informational: the flock is what counts). A sibling file, because .NET
        // opens any file with a shared flock, which the holder's exclusive one refuses.
        File.WriteAllText(PidPath(path), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        return new DaemonInstanceLock(file);
    }

    public void Dispose() => _file.Dispose();

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
