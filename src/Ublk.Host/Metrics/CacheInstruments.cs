using Prometheus;

namespace S3Block.Ublk.Metrics;

/// <summary>The clean-chunk cache, from <see cref="CacheSnapshot"/>; the tiers are the <c>tier</c> label.</summary>
internal sealed class CacheInstruments
{
    public CacheInstruments(IMetricFactory factory)
    {
        Series = new SnapshotSeries<CacheSnapshot>(factory);
        Series.LabelledCounter("s3block_cache_hits_total", "Chunk reads served from the clean-chunk cache, by tier (ram, disk).",
            "tier", c => ByTier(c.MemoryHits, c.DiskHits));
        Series.Counter("s3block_cache_misses_total", "Chunk reads found in neither cache tier (fetched from S3).", c => c.Misses);
        Series.LabelledCounter("s3block_cache_evictions_total", "Cache entries dropped to stay within the tier's budget, by tier.",
            "tier", c => ByTier(c.MemoryEvictions, c.DiskEvictions));
        Series.LabelledGauge("s3block_cache_bytes", "Bytes held by each cache tier (disk: entry files including headers).",
            "tier", c => ByTier(c.MemoryBytes, c.DiskBytes));
        Series.LabelledGauge("s3block_cache_entries", "Entries in each cache tier.", "tier", c => ByTier(c.MemoryEntries, c.DiskEntries));
        Series.LabelledGauge("s3block_cache_capacity_bytes", "Configured budget of each cache tier in bytes (ram 0: RAM tier disabled).",
            "tier", Capacity);
        Series.Counter("s3block_cache_corrupt_entries_total",
            "Damaged disk-cache entries found (bad header, length or CRC) and deleted.", c => c.CorruptEntries);
        Series.Counter("s3block_cache_disk_read_bytes_total", "Bytes read from disk-cache entry files.", c => c.DiskBytesRead);
        Series.Counter("s3block_cache_disk_written_bytes_total", "Bytes written to disk-cache entry files.", c => c.DiskBytesWritten);
        Series.Counter("s3block_cache_disk_puts_skipped_total",
            "Chunks that did not reach the disk tier (no room next to files being written, or a write error).", c => c.DiskPutsSkipped);
        Series.Counter("s3block_cache_disk_write_errors_total",
            "Disk-tier puts that failed with an I/O error (e.g. the file system is full).", c => c.DiskWriteErrors);
    }

    public SnapshotSeries<CacheSnapshot> Series { get; }

    private static (string, double)[] ByTier(long ram, long disk) => [("ram", ram), ("disk", disk)];

    private static IEnumerable<(string, double)> Capacity(CacheSnapshot c)
    {
        if (c.MemoryBudgetBytes is { } ram)
        {
            yield return ("ram", ram);
        }

        if (c.DiskBudgetBytes is { } disk)
        {
            yield return ("disk", disk);
        }
    }
}
