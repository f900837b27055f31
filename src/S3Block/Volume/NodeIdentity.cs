using S3Block.Cache.Platform;

namespace S3Block.Volume;

/// <summary>
/// This host's stable identity for leases and commits, kept in the daemon's state folder so a restarted daemon
/// recognizes the lease and the journal of its crashed predecessor.
/// </summary>
public static class NodeIdentity
{
    public const string FileName = "node-id";

    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(30);

    /// <summary>Reads the identity, or creates it once: when several daemons start at once on a fresh state folder,
    /// exactly one identity is written and all of them use it (a daemon that kept an identity no longer on disk would
    /// take its own lease for another node's after a crash). They take turns on <c>node-id.lock</c>.</summary>
    public static Guid LoadOrCreate(string stateDirectory)
    {
        Directory.CreateDirectory(stateDirectory);
        var path = Path.Combine(stateDirectory, FileName);
        if (TryRead(path) is { } existing)
        {
            return existing;
        }

        using var turn = TakeTurn(path + ".lock");
        if (TryRead(path) is { } createdMeanwhile)
        {
            return createdMeanwhile;
        }

        // Not there, or not a GUID (left empty by a version that did not sync it before a power cut: the identity it
        // held is gone either way). Written whole and synced before it gets its name, so it is never seen half written.
        var created = Guid.NewGuid();
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(System.Text.Encoding.ASCII.GetBytes(created.ToString("D") + "\n"));
            file.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        FileDurability.SyncDirectory(stateDirectory);
        return created;
    }

    /// <summary>An exclusive flock on <paramref name="lockPath"/> (FileShare.None), waited for.</summary>
    private static FileStream TakeTurn(string lockPath)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < LockWait)
            {
                Thread.Sleep(10);
            }
        }
    }

    private static Guid? TryRead(string path)
    {
        try
        {
            return Guid.TryParse(File.ReadAllText(path).Trim(), out var id) ? id : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}
