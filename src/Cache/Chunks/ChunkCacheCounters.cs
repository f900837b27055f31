namespace S3Block.Cache.Chunks;

/// <summary>The counters behind <see cref="ChunkCacheStatistics"/>, updated with <see cref="Interlocked"/> by both tiers.</summary>
internal sealed class ChunkCacheCounters
{
    public long MemoryHits;
    public long DiskHits;
    public long Misses;
    public long MemoryEvictions;
    public long DiskEvictions;
    public long CorruptEntries;
    public long ChecksumMismatches;
    public long DiskBytesRead;
    public long DiskBytesWritten;
    public long DiskPutsSkipped;
    public long DiskWriteErrors;
}
