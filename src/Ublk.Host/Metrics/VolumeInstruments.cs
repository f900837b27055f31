using System.Diagnostics.Metrics;

namespace S3Block.Ublk.Metrics;

/// <summary>The volume (write-back to S3, commits, garbage) from <see cref="VolumeSnapshot"/>, and the lease from
/// <see cref="LeaseSnapshot"/>.</summary>
internal sealed class VolumeInstruments
{
    private readonly TimeProvider _time;

    public VolumeInstruments(Meter meter, TimeProvider time)
    {
        _time = time;
        Source = new SnapshotSource<VolumeSnapshot>(time);
        Lease = new SnapshotSource<LeaseSnapshot>(time);

        meter.CreateObservableGauge("s3block_dirty_bytes", () => Observations.From(Source, v => v.DirtyBytes), "By",
            "Bytes written and journaled locally but not yet in S3.");
        meter.CreateObservableGauge("s3block_dirty_extents", () => Observations.From(Source, v => v.DirtyExtents), "{extent}",
            "Dirty extents (journaled writes not yet in S3).");
        meter.CreateObservableGauge("s3block_dirty_chunks", () => Observations.From(Source, v => v.DirtyChunks), "{chunk}",
            "Chunks holding data not yet in S3.");
        meter.CreateObservableGauge("s3block_dirty_oldest_age_seconds", () => Observations.From(Source, v => v.OldestDirtyAgeSeconds), "s",
            "Age of the oldest write not yet in S3, in seconds (0 when clean): the data-loss window if the local disk dies.");
        meter.CreateObservableCounter("s3block_commits_published_total", () => Observations.From(Source, v => v.CommitsPublished), "{commit}",
            "Commits published to S3.");
        meter.CreateObservableGauge("s3block_last_commit_number", () => Observations.From(Source, v => v.LastCommitNumber), "{commit}",
            "Number of the latest commit published to S3.");
        meter.CreateObservableGauge("s3block_last_commit_timestamp_seconds", ObserveLastCommitTime, "s",
            "When the latest commit was published, in seconds since the Unix epoch (absent before the first one).");
        meter.CreateObservableGauge("s3block_commit_lag_seconds", () => Observations.From(Source, CommitLag), "s",
            "Seconds the volume has been dirty without a commit: since the later of the last commit and the oldest dirty write; 0 when clean.");
        meter.CreateObservableCounter("s3block_uploaded_chunks_total", () => Observations.From(Source, v => v.ChunksUploaded), "{chunk}",
            "Chunk images uploaded to S3.");
        meter.CreateObservableCounter("s3block_uploaded_bytes_total", () => Observations.From(Source, v => v.BytesUploaded), "By",
            "Bytes of chunk images uploaded to S3.");
        meter.CreateObservableCounter("s3block_zeroed_chunks_total", () => Observations.From(Source, v => v.ChunksZeroed), "{chunk}",
            "Chunks recorded as all-zero in a commit instead of uploaded.");
        meter.CreateObservableCounter("s3block_fetched_chunks_total", () => Observations.From(Source, v => v.ChunkFetches), "{chunk}",
            "Chunk fetches from S3 to serve reads (cache misses).");
        meter.CreateObservableCounter("s3block_fetched_bytes_total", () => Observations.From(Source, v => v.BytesFetched), "By",
            "Bytes fetched from S3 to serve reads.");
        meter.CreateObservableCounter("s3block_volume_retries_total", () => Observations.From(Source, v => v.StoreRetries), "{retry}",
            "Store operations the volume retried after the store's own retries gave up (uploads, commits, lease renewals).");
        meter.CreateObservableCounter("s3block_checkpoints_written_total", () => Observations.From(Source, v => v.CheckpointsWritten), "{checkpoint}",
            "Checkpoints (full chunk maps) written to S3.");
        meter.CreateObservableCounter("s3block_garbage_deleted_objects_total", () => Observations.From(Source, v => v.GarbageDeleted), "{object}",
            "Superseded S3 objects deleted.");
        meter.CreateObservableGauge("s3block_garbage_pending_objects", () => Observations.From(Source, v => v.GarbagePending), "{object}",
            "Superseded S3 objects waiting for deletion.");
        meter.CreateObservableGauge("s3block_volume_faulted", () => Observations.From(Source, v => v.Faulted ? 1L : 0L), null,
            "1 when the volume stopped accepting writes (fenced by another writer, journal failure), else 0; the log says why.");

        meter.CreateObservableGauge("s3block_lease_held", () => Observations.From(Lease, l => l.Held ? 1L : 0L), null,
            "1 while this daemon holds the volume's single-writer lease, 0 when it lost or released it.");
        meter.CreateObservableGauge("s3block_lease_epoch", () => Observations.From(Lease, l => l.Epoch), "{epoch}",
            "Epoch of the lease (rises with every takeover; commits carry it for fencing).");
        meter.CreateObservableGauge("s3block_lease_expiry_timestamp_seconds", ObserveLeaseExpiry, "s",
            "When the lease expires unless renewed, in seconds since the Unix epoch.");
    }

    public SnapshotSource<VolumeSnapshot> Source { get; }

    public SnapshotSource<LeaseSnapshot> Lease { get; }

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

    private IEnumerable<Measurement<double>> ObserveLastCommitTime() =>
        Source.Get() is { LastCommitUnixSeconds: { } t } ? Observations.One(t) : Observations.None<double>();

    private IEnumerable<Measurement<double>> ObserveLeaseExpiry() =>
        Lease.Get() is { ExpiresAtUnixSeconds: { } t } ? Observations.One(t) : Observations.None<double>();
}
