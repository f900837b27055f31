namespace S3Block.Cache.Chunks;

/// <summary>
/// A snapshot of a <see cref="ChunkCache"/>'s counters (monotonic since <see cref="ChunkCache.Open"/>) and gauges
/// (current values). Taken without a global pause, so fields may be a few operations apart.
/// </summary>
public sealed record ChunkCacheStatistics
{
    /// <summary>Reads (ranged or whole) served from the RAM tier. Counter.</summary>
    public long MemoryHits { get; init; }

    /// <summary>Reads served from the disk tier. Counter.</summary>
    public long DiskHits { get; init; }

    /// <summary>Reads found in neither tier (including entries that failed verification). Counter.</summary>
    public long Misses { get; init; }

    /// <summary>RAM-tier entries dropped to stay within <see cref="ChunkCacheOptions.MemoryBudgetBytes"/>. Counter.</summary>
    public long MemoryEvictions { get; init; }

    /// <summary>Disk-tier entries deleted to stay within <see cref="ChunkCacheOptions.DiskBudgetBytes"/>, including at
    /// start-up. Counter.</summary>
    public long DiskEvictions { get; init; }

    /// <summary>Bytes of chunk images in the RAM tier. Gauge.</summary>
    public long MemoryBytes { get; init; }

    /// <summary>Entries in the RAM tier. Gauge.</summary>
    public long MemoryEntries { get; init; }

    /// <summary>Bytes of entry files in the disk tier (images plus 4 KiB headers and block checksum tables; files still
    /// being written are not included). Gauge.</summary>
    public long DiskBytes { get; init; }

    /// <summary>Entries in the disk tier. Gauge.</summary>
    public long DiskEntries { get; init; }

    /// <summary>Disk entries found damaged (bad header, wrong length, CRC mismatch, unreadable) and deleted, at start-up
    /// or on a read. Counter.</summary>
    public long CorruptEntries { get; init; }

    /// <summary>Disk reads whose bytes did not match their checksum: the data CRC of a whole-image read, the CRC of a
    /// block a ranged read touched, or the CRC of an entry's block checksum table. Each was a miss, and its entry was
    /// deleted (and counted in <see cref="CorruptEntries"/> by whichever read dropped it). Counter.</summary>
    public long ChecksumMismatches { get; init; }

    /// <summary>Bytes read from entry files (headers, data and checksum tables). Counter.</summary>
    public long DiskBytesRead { get; init; }

    /// <summary>Bytes written to entry files (headers, data and checksum tables). Counter.</summary>
    public long DiskBytesWritten { get; init; }

    /// <summary>Puts that did not reach the disk tier: the image does not fit the budget next to the files being
    /// written, or writing failed (e.g. the file system is full). The image is still served from the RAM tier if it
    /// fits there. Counter.</summary>
    public long DiskPutsSkipped { get; init; }

    /// <summary>Of <see cref="DiskPutsSkipped"/>, those caused by an I/O error. Counter.</summary>
    public long DiskWriteErrors { get; init; }

    /// <summary>The RAM tier's budget in bytes (<see cref="ChunkCacheOptions.MemoryBudgetBytes"/>; 0: no RAM tier). Gauge.</summary>
    public long MemoryBudgetBytes { get; init; }

    /// <summary>The disk tier's budget in bytes (<see cref="ChunkCacheOptions.DiskBudgetBytes"/>). Gauge.</summary>
    public long DiskBudgetBytes { get; init; }
}
