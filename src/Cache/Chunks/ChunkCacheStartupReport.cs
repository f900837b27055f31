namespace S3Block.Cache.Chunks;

/// <summary>What <see cref="ChunkCache.Open"/> found in the cache folder: worth one log line at start-up.</summary>
/// <param name="Entries">Entries kept in the index.</param>
/// <param name="Bytes">Their file bytes.</param>
/// <param name="TempFilesDeleted">Leftover temp files of puts interrupted by a crash or kill.</param>
/// <param name="CorruptEntriesDeleted">Entry files whose header, length or name did not verify.</param>
/// <param name="OldFormatEntriesDeleted">Entry files of an older format version (written before an upgrade), deleted
/// unread: not damage, so not counted as corrupt.</param>
/// <param name="EvictedOverBudget">Least recently used entries deleted because the budget is now smaller.</param>
/// <param name="Elapsed">How long the scan took.</param>
public sealed record ChunkCacheStartupReport(
    int Entries, long Bytes, int TempFilesDeleted, int CorruptEntriesDeleted, int OldFormatEntriesDeleted, int EvictedOverBudget, TimeSpan Elapsed);
