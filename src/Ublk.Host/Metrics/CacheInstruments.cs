using System.Diagnostics.Metrics;

namespace S3Block.Ublk.Metrics;

/// <summary>The clean-chunk cache, from <see cref="CacheSnapshot"/>; the tiers are the <c>tier</c> label.</summary>
internal sealed class CacheInstruments
{
    private static readonly KeyValuePair<string, object?>[] Ram = [Observations.Tag("tier", "ram")];
    private static readonly KeyValuePair<string, object?>[] Disk = [Observations.Tag("tier", "disk")];

    public CacheInstruments(Meter meter, TimeProvider time)
    {
        Source = new SnapshotSource<CacheSnapshot>(time);
        meter.CreateObservableCounter("s3block_cache_hits_total", () => ByTier(c => c.MemoryHits, c => c.DiskHits), "{read}",
            "Chunk reads served from the clean-chunk cache, by tier (ram, disk).");
        meter.CreateObservableCounter("s3block_cache_misses_total", () => Observations.From(Source, c => c.Misses), "{read}",
            "Chunk reads found in neither cache tier (fetched from S3).");
        meter.CreateObservableCounter("s3block_cache_evictions_total", () => ByTier(c => c.MemoryEvictions, c => c.DiskEvictions), "{entry}",
            "Cache entries dropped to stay within the tier's budget, by tier.");
        meter.CreateObservableGauge("s3block_cache_bytes", () => ByTier(c => c.MemoryBytes, c => c.DiskBytes), "By",
            "Bytes held by each cache tier (disk: entry files including headers).");
        meter.CreateObservableGauge("s3block_cache_entries", () => ByTier(c => c.MemoryEntries, c => c.DiskEntries), "{entry}",
            "Entries in each cache tier.");
        meter.CreateObservableGauge("s3block_cache_capacity_bytes", ObserveCapacity, "By",
            "Configured budget of each cache tier in bytes (ram 0: RAM tier disabled).");
        meter.CreateObservableCounter("s3block_cache_corrupt_entries_total", () => Observations.From(Source, c => c.CorruptEntries), "{entry}",
            "Damaged disk-cache entries found (bad header, length or CRC) and deleted.");
        meter.CreateObservableCounter("s3block_cache_disk_read_bytes_total", () => Observations.From(Source, c => c.DiskBytesRead), "By",
            "Bytes read from disk-cache entry files.");
        meter.CreateObservableCounter("s3block_cache_disk_written_bytes_total", () => Observations.From(Source, c => c.DiskBytesWritten), "By",
            "Bytes written to disk-cache entry files.");
        meter.CreateObservableCounter("s3block_cache_disk_puts_skipped_total", () => Observations.From(Source, c => c.DiskPutsSkipped), "{entry}",
            "Chunks that did not reach the disk tier (no room next to files being written, or a write error).");
        meter.CreateObservableCounter("s3block_cache_disk_write_errors_total", () => Observations.From(Source, c => c.DiskWriteErrors), "{entry}",
            "Disk-tier puts that failed with an I/O error (e.g. the file system is full).");
    }

    public SnapshotSource<CacheSnapshot> Source { get; }

    private IEnumerable<Measurement<long>> ByTier(Func<CacheSnapshot, long> ram, Func<CacheSnapshot, long> disk) =>
        Source.Get() is { } c ? [new(ram(c), Ram), new(disk(c), Disk)] : Observations.None<long>();

    private IEnumerable<Measurement<long>> ObserveCapacity()
    {
        if (Source.Get() is not { } c)
        {
            return Observations.None<long>();
        }

        var measurements = new List<Measurement<long>>(2);
        if (c.MemoryBudgetBytes is { } ram)
        {
            measurements.Add(new(ram, Ram));
        }

        if (c.DiskBudgetBytes is { } disk)
        {
            measurements.Add(new(disk, Disk));
        }

        return measurements;
    }
}
