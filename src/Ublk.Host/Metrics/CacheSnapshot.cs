namespace S3Block.Ublk.Metrics;

/// <summary>
/// What the clean-chunk cache reports for metrics (see <see cref="S3BlockMetrics.RegisterCache"/>). Property names
/// follow <c>S3Block.Cache.Chunks.ChunkCacheStatistics</c>; the two tiers become the <c>tier</c> label
/// (<c>ram</c>, <c>disk</c>). Counters are totals since open.
/// </summary>
public sealed record CacheSnapshot
{
    /// <summary>Reads served from the RAM tier [s3block_cache_hits_total{tier="ram"}].</summary>
    public long MemoryHits { get; init; }

    /// <summary>Reads served from the disk tier [s3block_cache_hits_total{tier="disk"}].</summary>
    public long DiskHits { get; init; }

    /// <summary>Reads found in neither tier [s3block_cache_misses_total].</summary>
    public long Misses { get; init; }

    /// <summary>RAM-tier evictions [s3block_cache_evictions_total{tier="ram"}].</summary>
    public long MemoryEvictions { get; init; }

    /// <summary>Disk-tier evictions [s3block_cache_evictions_total{tier="disk"}].</summary>
    public long DiskEvictions { get; init; }

    /// <summary>Bytes in the RAM tier [s3block_cache_bytes{tier="ram"}].</summary>
    public long MemoryBytes { get; init; }

    /// <summary>Entries in the RAM tier [s3block_cache_entries{tier="ram"}].</summary>
    public long MemoryEntries { get; init; }

    /// <summary>Bytes in the disk tier [s3block_cache_bytes{tier="disk"}].</summary>
    public long DiskBytes { get; init; }

    /// <summary>Entries in the disk tier [s3block_cache_entries{tier="disk"}].</summary>
    public long DiskEntries { get; init; }

    /// <summary>The RAM tier's budget, or null if unknown [s3block_cache_capacity_bytes{tier="ram"}].</summary>
    public long? MemoryBudgetBytes { get; init; }

    /// <summary>The disk tier's budget, or null if unknown [s3block_cache_capacity_bytes{tier="disk"}].</summary>
    public long? DiskBudgetBytes { get; init; }

    /// <summary>Damaged disk entries found and deleted [s3block_cache_corrupt_entries_total].</summary>
    public long CorruptEntries { get; init; }

    /// <summary>Bytes read from entry files [s3block_cache_disk_read_bytes_total].</summary>
    public long DiskBytesRead { get; init; }

    /// <summary>Bytes written to entry files [s3block_cache_disk_written_bytes_total].</summary>
    public long DiskBytesWritten { get; init; }

    /// <summary>Puts that did not reach the disk tier [s3block_cache_disk_puts_skipped_total].</summary>
    public long DiskPutsSkipped { get; init; }

    /// <summary>Of those, the ones caused by an I/O error [s3block_cache_disk_write_errors_total].</summary>
    public long DiskWriteErrors { get; init; }
}
