namespace S3Block.Ublk.Metrics;

/// <summary>
/// What the flush journal reports for metrics (see <see cref="S3BlockMetrics.RegisterJournal"/>). Property names
/// follow <c>S3Block.Cache.Journal.JournalStatistics</c>; durations are seconds. Counters are totals since open.
/// </summary>
/// <example><code>
/// metrics.RegisterJournal(() =&gt; journal.GetStatistics() is var s ? new JournalSnapshot
/// {
///     RecordsAppended = s.RecordsAppended, ..., TotalSyncSeconds = s.TotalSyncTime.TotalSeconds,
///     SyncLatencyUpperBounds = LatencyHistogram.UpperBoundsSeconds, SyncLatencyBuckets = s.SyncLatencyBuckets, ...
/// } : null);
/// </code></example>
public sealed record JournalSnapshot
{
    /// <summary>Records appended [s3block_journal_appended_records_total].</summary>
    public long RecordsAppended { get; init; }

    /// <summary>Payload bytes appended [s3block_journal_appended_payload_bytes_total].</summary>
    public long PayloadBytesAppended { get; init; }

    /// <summary>Journal bytes written: headers, payloads, padding [s3block_journal_written_bytes_total].</summary>
    public long JournalBytesAppended { get; init; }

    /// <summary>Sync rounds (fdatasync of the segments with new records) [s3block_journal_fsyncs_total].</summary>
    public long Syncs { get; init; }

    /// <summary>Calls that waited for a sync (FLUSH, FUA) [s3block_journal_durability_waits_total].</summary>
    public long DurabilityWaits { get; init; }

    /// <summary>Time spent in sync rounds, summed (the histogram's <c>_sum</c>).</summary>
    public double TotalSyncSeconds { get; init; }

    /// <summary>For how long appends have waited for a full disk, 0 when not full [s3block_journal_disk_full_seconds].</summary>
    public double DiskFullSeconds { get; init; }

    /// <summary>Times an append found the disk full [s3block_journal_disk_full_waits_total].</summary>
    public long DiskFullWaits { get; init; }

    /// <summary>Disk space the ready spare segment takes beyond the journal's bytes [s3block_journal_spare_bytes].</summary>
    public long SpareBytes { get; init; }

    /// <summary>Segments started from a zero-filled spare [s3block_journal_segments_from_spare_total].</summary>
    public long SegmentsFromSpare { get; init; }

    /// <summary>Segments created on demand, with no spare ready [s3block_journal_segments_on_demand_total].</summary>
    public long SegmentsOnDemand { get; init; }

    /// <summary>Spares that could not be made or used [s3block_journal_spare_failures_total].</summary>
    public long SpareFailures { get; init; }

    /// <summary>Upper bounds (seconds) of the sync latency buckets, ascending [s3block_journal_fsync_duration_seconds].</summary>
    public IReadOnlyList<double> SyncLatencyUpperBounds { get; init; } = [];

    /// <summary>Sync rounds per bucket, not cumulative: one per bound plus one above the last bound.</summary>
    public IReadOnlyList<long> SyncLatencyBuckets { get; init; } = [];

    /// <summary>Appends delayed by the high-water-mark throttle or a full journal [s3block_journal_delayed_appends_total].</summary>
    public long DelayedAppends { get; init; }

    /// <summary>Appends that waited for space because the journal was full [s3block_journal_full_waits_total].</summary>
    public long AppendsWaitedForSpace { get; init; }

    /// <summary>Time appends spent delayed or waiting for space [s3block_journal_append_delay_seconds_total].</summary>
    public double TotalAppendDelaySeconds { get; init; }

    /// <summary>Appends waiting for space right now [s3block_journal_full_waiters].</summary>
    public long AppendsWaitingForSpace { get; init; }

    /// <summary>Bytes the segments occupy [s3block_journal_bytes].</summary>
    public long UsedBytes { get; init; }

    /// <summary>The configured maximum [s3block_journal_capacity_bytes].</summary>
    public long CapacityBytes { get; init; }

    /// <summary>Segment files [s3block_journal_segments].</summary>
    public long SegmentCount { get; init; }

    /// <summary>1 if replay at open found damage, else 0 [s3block_journal_replay_damage_total].</summary>
    public long ReplayDamageFound { get; init; }

    /// <summary><see cref="UsedBytes"/> / <see cref="CapacityBytes"/>, 0 when the capacity is unknown [s3block_journal_fill_ratio].</summary>
    public double FillRatio => CapacityBytes > 0 ? (double)UsedBytes / CapacityBytes : 0;
}
