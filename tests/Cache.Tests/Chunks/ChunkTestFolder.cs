namespace S3Block.Tests.Chunks;

/// <summary>A fresh folder, deleted on dispose: under the temp directory (a real disk here) unless a root is given.</summary>
internal sealed class ChunkTestFolder : IDisposable
{
    public ChunkTestFolder(string? root = null)
    {
        Root = System.IO.Path.Combine(root ?? System.IO.Path.GetTempPath(), "s3block-chunk-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        Path = System.IO.Path.Combine(Root, "cache");
    }

    /// <summary>A parent folder for files that must stay outside the cache.</summary>
    public string Root { get; }

    /// <summary>The cache folder (created by the cache).</summary>
    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder must not fail a test.
        }
    }
}
