namespace S3Block.Cache.Journal;

/// <summary>A snapshot of a journal's counters and gauges (see <see cref="FlushJournal.GetStatistics"/>).</summary>
/// <remarks>Suggested instrument names in brackets.</remarks>
public sealed record JournalStatistics
{
    /// <summary>Records appended since open [s3block_journal_appended_records_total].</summary>
    public required long RecordsAppended { get; init; }

    /// <summary>Payload bytes appended since open [s3block_journal_appended_payload_bytes_total].</summary>
    public required long PayloadBytesAppended { get; init; }

    /// <summary>Journal bytes appended since open: headers, payloads and padding [s3block_journal_written_bytes_total].</summary>
    public required long JournalBytesAppended { get; init; }

    /// <summary>Highest sequence handed out.</summary>
    public required long LastReservedSequence { get; init; }

    /// <summary>Every record at or below this sequence is completely written (maybe not durable).</summary>
    public required long AppendedSequence { get; init; }

    /// <summary>Every record at or below this sequence is fsync'ed.</summary>
    public required long DurableSequence { get; init; }

    /// <summary>Highest sequence passed to <see cref="FlushJournal.ReleaseThrough"/> (clamped to what was written).</summary>
    public required long ReleasedSequence { get; init; }

    /// <summary>Sync rounds performed: one fsync of each segment holding newly covered records, usually one file [s3block_journal_fsyncs_total].</summary>
    public required long Syncs { get; init; }

    /// <summary>Calls that had to wait for a sync (FLUSH or FUA waits not already satisfied) [s3block_journal_durability_waits_total].</summary>
    public required long DurabilityWaits { get; init; }

    /// <summary>Time spent in fsync, summed.</summary>
    public required TimeSpan TotalSyncTime { get; init; }

    /// <summary>Duration of the latest sync round (all segments it covered).</summary>
    public required TimeSpan LastSyncDuration { get; init; }

    /// <summary>Longest sync round since open.</summary>
    public required TimeSpan MaxSyncDuration { get; init; }

    /// <summary>Sync round latency histogram counts, bounds in <see cref="LatencyHistogram.UpperBoundsSeconds"/> [s3block_journal_fsync_duration_seconds].</summary>
    public required IReadOnlyList<long> SyncLatencyBuckets { get; init; }

    /// <summary>Appends delayed by the high-water-mark throttle or by a full journal [s3block_journal_delayed_appends_total].</summary>
    public required long DelayedAppends { get; init; }

    /// <summary>Appends that had to wait for space because the journal was full [s3block_journal_full_waits_total].</summary>
    public required long AppendsWaitedForSpace { get; init; }

    /// <summary>Total time appends spent delayed or waiting for space [s3block_journal_append_delay_seconds_total].</summary>
    public required TimeSpan TotalAppendDelay { get; init; }

    /// <summary>Appends waiting for space right now [s3block_journal_full_waiters].</summary>
    public required int AppendsWaitingForSpace { get; init; }

    /// <summary>Bytes the segments occupy [s3block_journal_bytes].</summary>
    public required long UsedBytes { get; init; }

    /// <summary>Configured most bytes [s3block_journal_capacity_bytes].</summary>
    public required long CapacityBytes { get; init; }

    /// <summary>UsedBytes / CapacityBytes [s3block_journal_fill_ratio].</summary>
    public double FillRatio => (double)UsedBytes / CapacityBytes;

    /// <summary>Segment files [s3block_journal_segments].</summary>
    public required int SegmentCount { get; init; }

    /// <summary>1 if replay at open found damage, else 0 [s3block_journal_replay_damage_total].</summary>
    public required long ReplayDamageFound { get; init; }

    /// <summary>Since when appends wait because the disk is full (a new segment could not be allocated), or null.</summary>
    public DateTimeOffset? DiskFullSince { get; init; }

    /// <summary>Times an append found the disk full and waited.</summary>
    public long DiskFullWaits { get; init; }

    /// <summary>A zero-filled spare is ready to become the next segment.</summary>
    public bool SpareReady { get; init; }

    /// <summary>Disk space the ready spare takes, beyond <see cref="UsedBytes"/> [s3block_journal_spare_bytes].</summary>
    public long SpareBytes { get; init; }

    /// <summary>Segments started from a spare: records written over durable zeros, data-only fdatasyncs [s3block_journal_segments_from_spare_total].</summary>
    public long SegmentsFromSpare { get; init; }

    /// <summary>Segments created on demand because no spare was ready (spares off, low space, failures, falling behind) [s3block_journal_segments_on_demand_total].</summary>
    public long SegmentsOnDemand { get; init; }

    /// <summary>Spares that could not be made or used (disk full, I/O errors); a segment created on demand took over [s3block_journal_spare_failures_total].</summary>
    public long SpareFailures { get; init; }

    /// <summary>Times no spare was made because less than three segments' worth of space was free.</summary>
    public long SparesSkippedForSpace { get; init; }
}
