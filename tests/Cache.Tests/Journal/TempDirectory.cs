namespace S3Block.Tests.Journal;

/// <summary>A fresh directory deleted on dispose. <see cref="InMemory"/> puts it on tmpfs when there is one.</summary>
internal sealed class TempDirectory : IDisposable
{
    private TempDirectory(string root)
    {
        Path = System.IO.Path.Combine(root, "s3block-journal-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>On the machine's temp directory (a real disk here): for fsync behaviour and measurements.</summary>
    public static TempDirectory OnDisk() => new(System.IO.Path.GetTempPath());

    /// <summary>On /dev/shm when present: for brute-force tests that reopen a journal thousands of times.</summary>
    public static TempDirectory InMemory() => new(Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath());

    public string Sub(string name)
    {
        var path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder must not fail a test.
        }
    }
}
