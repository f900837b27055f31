using Prometheus;

namespace S3Block.Ublk.Metrics;

/// <summary>
/// The flush journal, from <see cref="JournalSnapshot"/>. Its fdatasync latency histogram is kept by the journal
/// itself and exported through a <see cref="SnapshotHistogram"/>.
/// </summary>
internal sealed class JournalInstruments
{
    public const string FsyncHistogramName = "s3block_journal_fsync_duration_seconds";

    public JournalInstruments(IMetricFactory factory)
    {
        Series = new SnapshotSeries<JournalSnapshot>(factory);
        var j = Series;
        j.Gauge("s3block_journal_bytes", "Bytes the journal segments occupy on the local disk.", s => s.UsedBytes);
        j.Gauge("s3block_journal_capacity_bytes", "Most bytes the journal may occupy (configured).", s => s.CapacityBytes);
        j.Gauge("s3block_journal_fill_ratio",
            "Journal bytes used / capacity (0..1); writes are throttled near the high-water mark and wait when full.", s => s.FillRatio);
        j.Gauge("s3block_journal_segments", "Journal segment files.", s => s.SegmentCount);
        j.Counter("s3block_journal_appended_records_total", "Records appended to the journal.", s => s.RecordsAppended);
        j.Counter("s3block_journal_appended_payload_bytes_total", "Payload bytes appended to the journal.", s => s.PayloadBytesAppended);
        j.Counter("s3block_journal_written_bytes_total", "Bytes written to the journal: record headers, payloads and padding.",
            s => s.JournalBytesAppended);
        j.Counter("s3block_journal_fsyncs_total", "Journal sync rounds (fdatasync of each segment holding newly covered records).",
            s => s.Syncs);
        j.Counter("s3block_journal_durability_waits_total", "FLUSH or FUA requests that had to wait for a journal sync.",
            s => s.DurabilityWaits);
        j.Counter("s3block_journal_delayed_appends_total",
            "Appends delayed by the high-water-mark throttle or a full journal (backpressure from slow uploads).", s => s.DelayedAppends);
        j.Counter("s3block_journal_full_waits_total", "Appends that had to wait for space because the journal was full.",
            s => s.AppendsWaitedForSpace);
        j.Counter("s3block_journal_append_delay_seconds_total", "Time appends spent delayed or waiting for space, in seconds.",
            s => s.TotalAppendDelaySeconds);
        j.Gauge("s3block_journal_full_waiters", "Appends waiting for journal space right now.", s => s.AppendsWaitingForSpace);
        j.Gauge("s3block_journal_disk_full",
            "1 while writes wait because the journal's disk is full (a new segment could not be allocated), else 0.",
            s => s.DiskFullSeconds > 0 ? 1 : 0);
        j.Gauge("s3block_journal_disk_full_seconds", "For how long writes have been waiting for a full disk (0: not full).",
            s => s.DiskFullSeconds);
        j.Counter("s3block_journal_disk_full_waits_total", "Times an append found the journal's disk full and waited.",
            s => s.DiskFullWaits);
        j.Gauge("s3block_journal_spare_bytes",
            "Disk space of the zero-filled spare segment kept ready (0 or one segment), beyond s3block_journal_bytes.", s => s.SpareBytes);
        j.Counter("s3block_journal_segments_from_spare_total",
            "Segments started from the zero-filled spare: their records' fdatasyncs write data only.", s => s.SegmentsFromSpare);
        j.Counter("s3block_journal_segments_on_demand_total",
            "Segments created on demand because no spare was ready (each record's fdatasync also commits file-system metadata).",
            s => s.SegmentsOnDemand);
        j.Counter("s3block_journal_spare_failures_total",
            "Spare segments that could not be made or used (disk full, I/O errors); a segment created on demand took over.",
            s => s.SpareFailures);
        j.Counter("s3block_journal_replay_damage_total",
            "1 if the journal replay at start-up found a torn or corrupt record, else 0.", s => s.ReplayDamageFound);

        var fsync = new SnapshotHistogram(factory, FsyncHistogramName, "Journal sync round (fdatasync) latency in seconds.");
        j.Custom(s => fsync.Update(s.SyncLatencyUpperBounds, s.SyncLatencyBuckets, s.TotalSyncSeconds), fsync.Hide);
    }

    public SnapshotSeries<JournalSnapshot> Series { get; }
}
