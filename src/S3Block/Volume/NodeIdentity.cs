namespace S3Block.Volume;

/// <summary>
/// This host's stable identity for leases and commits, kept in the daemon's state folder so a restarted daemon
/// recognizes the lease and the journal of its crashed predecessor.
/// </summary>
public static class NodeIdentity
{
    public static Guid LoadOrCreate(string stateDirectory)
    {
        Directory.CreateDirectory(stateDirectory);
        var path = Path.Combine(stateDirectory, "node-id");
        if (File.Exists(path) && Guid.TryParse(File.ReadAllText(path).Trim(), out var existing))
        {
            return existing;
        }

        var created = Guid.NewGuid();
        var temp = path + ".tmp";
        File.WriteAllText(temp, created.ToString("D") + "\n");
        File.Move(temp, path, overwrite: true);
        return created;
    }
}
