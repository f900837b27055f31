using System.Diagnostics.Metrics;

namespace S3Block.Ublk.Metrics;

/// <summary>
/// The flush journal, from <see cref="JournalSnapshot"/>. Its fdatasync latency histogram is kept by the journal
/// itself, so it is exported from the snapshot by <see cref="FsyncHistogram"/> rather than through a meter
/// (System.Diagnostics.Metrics has no observable histogram).
/// </summary>
internal sealed class JournalInstruments
{
    public const string FsyncHistogramName = "s3block_journal_fsync_duration_seconds";

    public JournalInstruments(Meter meter, TimeProvider time)
    {
        Source = new SnapshotSource<JournalSnapshot>(time);
        FsyncHistogram = new FsyncHistogramSource(Source);
        meter.CreateObservableGauge("s3block_journal_bytes", () => Observations.From(Source, j => j.UsedBytes), "By",
            "Bytes the journal segments occupy on the local disk.");
        meter.CreateObservableGauge("s3block_journal_capacity_bytes", () => Observations.From(Source, j => j.CapacityBytes), "By",
            "Most bytes the journal may occupy (configured).");
        meter.CreateObservableGauge("s3block_journal_fill_ratio", () => Observations.From(Source, j => j.FillRatio), "1",
            "Journal bytes used / capacity (0..1); writes are throttled near the high-water mark and wait when full.");
        meter.CreateObservableGauge("s3block_journal_segments", () => Observations.From(Source, j => j.SegmentCount), "{segment}",
            "Journal segment files.");
        meter.CreateObservableCounter("s3block_journal_appended_records_total", () => Observations.From(Source, j => j.RecordsAppended), "{record}",
            "Records appended to the journal.");
        meter.CreateObservableCounter("s3block_journal_appended_payload_bytes_total", () => Observations.From(Source, j => j.PayloadBytesAppended), "By",
            "Payload bytes appended to the journal.");
        meter.CreateObservableCounter("s3block_journal_written_bytes_total", () => Observations.From(Source, j => j.JournalBytesAppended), "By",
            "Bytes written to the journal: record headers, payloads and padding.");
        meter.CreateObservableCounter("s3block_journal_fsyncs_total", () => Observations.From(Source, j => j.Syncs), "{sync}",
            "Journal sync rounds (fdatasync of each segment holding newly covered records).");
        meter.CreateObservableCounter("s3block_journal_durability_waits_total", () => Observations.From(Source, j => j.DurabilityWaits), "{wait}",
            "FLUSH or FUA requests that had to wait for a journal sync.");
        meter.CreateObservableCounter("s3block_journal_delayed_appends_total", () => Observations.From(Source, j => j.DelayedAppends), "{append}",
            "Appends delayed by the high-water-mark throttle or a full journal (backpressure from slow uploads).");
        meter.CreateObservableCounter("s3block_journal_full_waits_total", () => Observations.From(Source, j => j.AppendsWaitedForSpace), "{append}",
            "Appends that had to wait for space because the journal was full.");
        meter.CreateObservableCounter("s3block_journal_append_delay_seconds_total", () => Observations.From(Source, j => j.TotalAppendDelaySeconds), "s",
            "Time appends spent delayed or waiting for space, in seconds.");
        meter.CreateObservableGauge("s3block_journal_full_waiters", () => Observations.From(Source, j => j.AppendsWaitingForSpace), "{append}",
            "Appends waiting for journal space right now.");
        meter.CreateObservableCounter("s3block_journal_replay_damage_total", () => Observations.From(Source, j => j.ReplayDamageFound), "{replay}",
            "1 if the journal replay at start-up found a torn or corrupt record, else 0.");
    }

    public SnapshotSource<JournalSnapshot> Source { get; }

    /// <summary>Exports <see cref="FsyncHistogramName"/> from the latest snapshot.</summary>
    public IMetricSource FsyncHistogram { get; }

    private sealed class FsyncHistogramSource(SnapshotSource<JournalSnapshot> source) : IMetricSource
    {
        public void Collect(ICollection<MetricFamily> families)
        {
            if (source.Get() is not { } j || j.SyncLatencyUpperBounds.Count == 0)
            {
                return;
            }

            families.Add(new MetricFamily(FsyncHistogramName, MetricType.Histogram,
                "Journal sync round (fdatasync) latency in seconds.",
                [new HistogramPoint([], j.SyncLatencyUpperBounds, j.SyncLatencyBuckets, j.TotalSyncSeconds)]));
        }
    }
}
