namespace S3Block.Ublk.Metrics;

/// <summary>
/// What the volume reports for metrics (see <see cref="S3BlockMetrics.RegisterVolume"/>). Property names follow
/// <c>S3Block.Volume.VolumeStatistics</c>; times are seconds. Counters are totals since the volume opened.
/// </summary>
/// <example><code>
/// metrics.RegisterVolume(() =&gt; volume.GetStatistics() is var s ? new VolumeSnapshot
/// {
///     DirtyBytes = s.DirtyBytes, DirtyExtents = s.DirtyExtents, DirtyChunks = s.DirtyChunks,
///     OldestDirtyAgeSeconds = s.OldestDirtyAge.TotalSeconds,
///     LastCommitNumber = s.LastCommitNumber, LastCommitUnixSeconds = s.LastCommitTime?.ToUnixTimeMilliseconds() / 1000.0,
///     CommitsPublished = s.CommitsPublished, ... , Faulted = s.Fault is not null,
/// } : null);
/// </code></example>
public sealed record VolumeSnapshot
{
    /// <summary>Bytes journaled but not yet in S3 [s3block_dirty_bytes].</summary>
    public long DirtyBytes { get; init; }

    /// <summary>Dirty extents [s3block_dirty_extents].</summary>
    public long DirtyExtents { get; init; }

    /// <summary>Chunks with dirty data [s3block_dirty_chunks].</summary>
    public long DirtyChunks { get; init; }

    /// <summary>How long the oldest write not yet in S3 has waited; 0 when clean. The data-loss window if the local
    /// disk dies [s3block_dirty_oldest_age_seconds].</summary>
    public double OldestDirtyAgeSeconds { get; init; }

    /// <summary>Number of the latest published commit [s3block_last_commit_number].</summary>
    public long LastCommitNumber { get; init; }

    /// <summary>When the latest commit was published (Unix seconds), or null if none since open
    /// [s3block_last_commit_timestamp_seconds; with the dirty state, s3block_commit_lag_seconds].</summary>
    public double? LastCommitUnixSeconds { get; init; }

    /// <summary>Commits published [s3block_commits_published_total].</summary>
    public long CommitsPublished { get; init; }

    /// <summary>Chunk images uploaded [s3block_uploaded_chunks_total].</summary>
    public long ChunksUploaded { get; init; }

    /// <summary>Bytes of chunk images uploaded [s3block_uploaded_bytes_total].</summary>
    public long BytesUploaded { get; init; }

    /// <summary>Chunks recorded as all-zero instead of uploaded [s3block_zeroed_chunks_total].</summary>
    public long ChunksZeroed { get; init; }

    /// <summary>Chunk fetches from S3 other than read-ahead [s3block_fetched_chunks_total].</summary>
    public long ChunkFetches { get; init; }

    /// <summary>Chunks fetched ahead of a sequential reader [s3block_readahead_chunks_total].</summary>
    public long ReadAheadFetches { get; init; }

    /// <summary>Reads that waited for a read-ahead's GET in flight [s3block_readahead_joins_total].</summary>
    public long ReadAheadJoins { get; init; }

    /// <summary>Chunk PUTs that waited for reads to be served [s3block_uploads_yielded_to_reads_total].</summary>
    public long UploadsYieldedToReads { get; init; }

    /// <summary>Bytes fetched from S3: for reads, read-ahead and upload base images [s3block_fetched_bytes_total].</summary>
    public long BytesFetched { get; init; }

    /// <summary>Store operations the volume retried after the store's own retries gave up
    /// [s3block_volume_retries_total].</summary>
    public long StoreRetries { get; init; }

    /// <summary>Checkpoints written [s3block_checkpoints_written_total].</summary>
    public long CheckpointsWritten { get; init; }

    /// <summary>Superseded objects deleted [s3block_garbage_deleted_objects_total].</summary>
    public long GarbageDeleted { get; init; }

    /// <summary>Superseded objects waiting for deletion [s3block_garbage_pending_objects].</summary>
    public long GarbagePending { get; init; }

    /// <summary>True once the volume stopped accepting writes (fenced, journal failure) [s3block_volume_faulted].</summary>
    public bool Faulted { get; init; }
}
