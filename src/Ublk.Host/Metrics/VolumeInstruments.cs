using Prometheus;

namespace S3Block.Ublk.Metrics;

/// <summary>The volume (write-back to S3, commits, garbage) from <see cref="VolumeSnapshot"/>, and the lease from
/// <see cref="LeaseSnapshot"/>.</summary>
internal sealed class VolumeInstruments
{
    private readonly TimeProvider _time;

    public VolumeInstruments(IMetricFactory factory, TimeProvider time)
    {
        _time = time;
        Series = new SnapshotSeries<VolumeSnapshot>(factory);
        Lease = new SnapshotSeries<LeaseSnapshot>(factory);
        var v = Series;

        v.Gauge("s3block_dirty_bytes", "Bytes written and journaled locally but not yet in S3.", s => s.DirtyBytes);
        v.Gauge("s3block_dirty_extents", "Dirty extents (journaled writes not yet in S3).", s => s.DirtyExtents);
        v.Gauge("s3block_dirty_chunks", "Chunks holding data not yet in S3.", s => s.DirtyChunks);
        v.Gauge("s3block_dirty_oldest_age_seconds",
            "Age of the oldest write not yet in S3, in seconds (0 when clean): the data-loss window if the local disk dies.",
            s => s.OldestDirtyAgeSeconds);
        v.Counter("s3block_commits_published_total", "Commits published to S3.", s => s.CommitsPublished);
        v.Gauge("s3block_last_commit_number", "Number of the latest commit published to S3.", s => s.LastCommitNumber);
        v.Gauge("s3block_last_commit_timestamp_seconds",
            "When the latest commit was published, in seconds since the Unix epoch (absent before the first one).",
            s => s.LastCommitUnixSeconds);
        v.Gauge("s3block_commit_lag_seconds",
            "Seconds the volume has been dirty without a commit: since the later of the last commit and the oldest dirty write; 0 when clean.",
            s => CommitLag(s));
        v.Counter("s3block_uploaded_chunks_total", "Chunk images uploaded to S3.", s => s.ChunksUploaded);
        v.Counter("s3block_uploaded_bytes_total", "Bytes of chunk images uploaded to S3.", s => s.BytesUploaded);
        v.Counter("s3block_zeroed_chunks_total", "Chunks recorded as all-zero in a commit instead of uploaded.", s => s.ChunksZeroed);
        v.Counter("s3block_fetched_chunks_total", "Chunk fetches from S3 other than read-ahead: cache misses of reads and of the base images of uploads.", s => s.ChunkFetches);
        v.Counter("s3block_readahead_chunks_total", "Chunks fetched from S3 ahead of a sequential reader.", s => s.ReadAheadFetches);
        v.Counter("s3block_readahead_joins_total",
            "Reads that waited for a read-ahead's GET in flight (counted neither as cache hits nor as fetches).", s => s.ReadAheadJoins);
        v.Counter("s3block_uploads_yielded_to_reads_total",
            "Chunk PUTs that waited for readers: a read waited for S3, or one had within the last second (Volume:UploadsWhileReading ran meanwhile).", s => s.UploadsYieldedToReads);
        v.Counter("s3block_fetched_bytes_total", "Bytes fetched from S3: for reads, read-ahead and the base images of uploads.", s => s.BytesFetched);
        v.Counter("s3block_volume_retries_total",
            "Store operations the volume retried after the store's own retries gave up (uploads, commits, lease renewals).",
            s => s.StoreRetries);
        v.Counter("s3block_checkpoints_written_total", "Checkpoints (full chunk maps) written to S3.", s => s.CheckpointsWritten);
        v.Counter("s3block_garbage_deleted_objects_total", "Superseded S3 objects deleted.", s => s.GarbageDeleted);
        v.Gauge("s3block_garbage_pending_objects", "Superseded S3 objects waiting for deletion.", s => s.GarbagePending);
        v.Gauge("s3block_volume_faulted",
            "1 when the volume stopped accepting writes (fenced by another writer, journal failure), else 0; the log says why.",
            s => s.Faulted ? 1 : 0);

        Lease.Gauge("s3block_lease_held",
            "1 while this daemon holds the volume's single-writer lease, 0 when it lost or released it.", l => l.Held ? 1 : 0);
        Lease.Gauge("s3block_lease_epoch", "Epoch of the lease (rises with every takeover; commits carry it for fencing).", l => l.Epoch);
        Lease.Gauge("s3block_lease_expiry_timestamp_seconds",
            "When the lease expires unless renewed, in seconds since the Unix epoch.", l => l.ExpiresAtUnixSeconds);
    }

    public SnapshotSeries<VolumeSnapshot> Series { get; }

    public SnapshotSeries<LeaseSnapshot> Lease { get; }

    /// <summary>
    /// "Seconds since the last commit while dirty": the time since the last commit, but counted only from when the
    /// volume became dirty (its oldest dirty write), so that the first write after an idle hour is not an hour of lag.
    /// </summary>
    internal double CommitLag(VolumeSnapshot v)
    {
        if (v.DirtyBytes <= 0)
        {
            return 0;
        }

        if (v.LastCommitUnixSeconds is not { } last)
        {
            return Math.Max(0, v.OldestDirtyAgeSeconds);
        }

        var sinceCommit = (_time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0) - last;
        return Math.Max(0, Math.Min(sinceCommit, v.OldestDirtyAgeSeconds));
    }
}
