namespace S3Block.Cache.Chunks;

/// <summary>Settings of a <see cref="ChunkCache"/>. Check them with <see cref="Validate"/> before <see cref="ChunkCache.Open"/>.</summary>
public sealed class ChunkCacheOptions
{
    /// <summary>The folder that holds the disk tier (created if missing); relative paths are relative to the working
    /// folder. Default: <c>data/chunk-cache</c>. The cache owns its 256 shard subfolders <c>00</c>..<c>ff</c> and only
    /// ever deletes files whose names it creates.</summary>
    public string Folder { get; set; } = "data/chunk-cache";

    /// <summary>The most bytes the disk tier may occupy, in bytes, counting whole files (each entry is its image plus a
    /// 4 KiB header and its block checksum table, 0.1% of the image) and files being written. Default: 10 GiB. At least
    /// one chunk plus its header and table.</summary>
    public long DiskBudgetBytes { get; set; } = 10L << 30;

    /// <summary>The most bytes of chunk images the RAM tier may hold, in bytes. Default: 256 MiB. 0 disables the RAM
    /// tier; otherwise at least one chunk.</summary>
    public long MemoryBudgetBytes { get; set; } = 256L << 20;

    /// <summary>
    /// After how many ranged disk hits on an entry the whole image is loaded into the RAM tier (and its CRC checked).
    /// Default: 4. 0 never promotes on reads (the RAM tier then holds only images given to
    /// <see cref="ChunkCache.PutAsync"/> or read whole with <see cref="ChunkCache.TryGetWholeAsync"/>).
    /// </summary>
    /// <remarks>Promoting on the first hit would turn every 4 KiB read of a cold chunk into a 4 MiB read.</remarks>
    public int PromoteAfterDiskHits { get; set; } = 4;

    /// <summary>
    /// How often at most an entry's file modification time is updated when it is used. The cache uses the file's
    /// mtime as its "last used" stamp so that the LRU order survives a restart (the kernel's atime is unusable: reading
    /// the header at start-up would bump it). Default: 1 minute, i.e. the order after a restart is exact to a minute.
    /// </summary>
    internal TimeSpan UseStampInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The problems with these options, each naming its key under <paramref name="section"/>
    /// (e.g. <c>Cache:DiskBudgetBytes: must be at least one chunk ...</c>).
    /// </summary>
    /// <param name="section">The configuration section the options were bound from, e.g. <c>Cache</c>.</param>
    /// <param name="chunkSizeBytes">The volume's chunk size in bytes: the budgets must hold at least one chunk.</param>
    public IEnumerable<string> Validate(string section, int chunkSizeBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSizeBytes);

        if (string.IsNullOrWhiteSpace(Folder))
        {
            yield return $"{section}:Folder: required (the folder that holds the chunk cache)";
        }
        else if (Folder.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            yield return $"{section}:Folder: '{Folder}' is not a valid path";
        }

        var oneEntry = ChunkFileFormat.FileLength(chunkSizeBytes);
        if (DiskBudgetBytes < oneEntry)
        {
            yield return $"{section}:DiskBudgetBytes: must be at least one chunk ({oneEntry} bytes: {chunkSizeBytes} of data, a {ChunkFileFormat.DataOffset}-byte header and {ChunkFileFormat.TableLength(chunkSizeBytes)} bytes of block checksums), not {DiskBudgetBytes}";
        }

        if (MemoryBudgetBytes != 0 && MemoryBudgetBytes < chunkSizeBytes)
        {
            yield return $"{section}:MemoryBudgetBytes: must be 0 (no RAM tier) or at least one chunk ({chunkSizeBytes} bytes), not {MemoryBudgetBytes}";
        }

        if (PromoteAfterDiskHits < 0)
        {
            yield return $"{section}:PromoteAfterDiskHits: must be 0 (never) or positive, not {PromoteAfterDiskHits}";
        }
    }
}
