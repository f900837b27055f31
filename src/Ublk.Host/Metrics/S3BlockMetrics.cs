using System.Diagnostics.Metrics;
using System.Reflection;
using S3Block.ObjectStore;

namespace S3Block.Ublk.Metrics;

/// <summary>
/// The daemon's instrument catalog: every metric S3Block exports, with stable names, units, help and buckets, on one
/// <see cref="System.Diagnostics.Metrics.Meter"/> named <c>S3Block</c>. Create one per process (a DI singleton).
/// </summary>
/// <remarks>
/// <para><b>Naming convention.</b> Each instrument is named exactly as the exported Prometheus metric, unit suffix and
/// <c>_total</c> included (<c>s3block_io_requests_total</c>, <c>s3block_io_duration_seconds</c>); the exporter adds
/// nothing. Values are in base units (seconds, bytes). Labels are low-cardinality enums: never keys or block numbers.</para>
/// <para><b>Two ways in.</b> Hot-path events are recorded with <c>Record*</c> methods (counters and histograms, no
/// allocation, no lock). Everything the components already count is read at scrape time from a snapshot delegate
/// given to a <c>Register*</c> method; each delegate is called at most once per scrape, on the scrape thread, and may
/// return null for "nothing to report" (its series then disappear). Registering again replaces the delegate.</para>
/// <para>One volume and one device per process: the volume, journal, cache and device metrics carry no volume
/// label; <c>s3block_device_info</c> names the volume.</para>
/// </remarks>
public sealed class S3BlockMetrics : IDisposable
{
    /// <summary>The meter name; <see cref="MeterCollector"/> collects every meter whose name starts with it.</summary>
    public const string MeterName = "S3Block";

    private readonly InfoInstruments _info;
    private readonly IoInstruments _io;
    private readonly CacheInstruments _cache;
    private readonly JournalInstruments _journal;
    private readonly VolumeInstruments _volume;
    private readonly S3Instruments _s3;

    /// <param name="version">The <c>version</c> label of <c>s3block_build_info</c>; default: this assembly's
    /// informational version.</param>
    /// <param name="meterName">The meter's name; tests use a unique one so that parallel tests do not see each other.</param>
    /// <param name="timeProvider">Clock for snapshot caching and commit lag; default: the system clock.</param>
    public S3BlockMetrics(string? version = null, string meterName = MeterName, TimeProvider? timeProvider = null)
    {
        var time = timeProvider ?? TimeProvider.System;
        Version = version ?? DefaultVersion();
        Meter = new Meter(meterName, Version);
        _info = new InfoInstruments(Meter, Version, time);
        _io = new IoInstruments(Meter, time);
        _cache = new CacheInstruments(Meter, time);
        _journal = new JournalInstruments(Meter, time);
        _volume = new VolumeInstruments(Meter, time);
        _s3 = new S3Instruments(Meter);
    }

    /// <summary>The meter all instruments live on.</summary>
    public Meter Meter { get; }

    /// <summary>The daemon version reported by <c>s3block_build_info</c>.</summary>
    public string Version { get; }

    /// <summary>
    /// Histograms that come from snapshots rather than instruments (<c>s3block_journal_fsync_duration_seconds</c>);
    /// <see cref="PrometheusExporter.Create"/> includes it.
    /// </summary>
    public IMetricSource SnapshotHistograms => _journal.FsyncHistogram;

    // ----------------------------------------------------------------------------------------- hot path

    /// <summary>One block I/O request completed (call from the queue thread on completion; no allocation).</summary>
    /// <param name="op">The operation.</param>
    /// <param name="bytes">Bytes it covered (0 for flush); counted only when <paramref name="result"/> is ok.</param>
    /// <param name="seconds">From the queue taking the request to its completion.</param>
    /// <param name="result">How it ended.</param>
    public void RecordIo(BlockOp op, long bytes, double seconds, IoResult result) => _io.Record(op, bytes, seconds, result);

    /// <summary>One block I/O request completed successfully (<paramref name="ok"/>) or failed in the backend.</summary>
    public void RecordIo(BlockOp op, long bytes, double seconds, bool ok) =>
        _io.Record(op, bytes, seconds, ok ? IoResult.Ok : IoResult.Error);

    /// <summary>One object-store request (one attempt) finished. <see cref="MeteredObjectStore"/> calls this.</summary>
    /// <param name="operation">The S3 operation.</param>
    /// <param name="outcome">How it ended (<see cref="S3OutcomeLabels.FromException"/> classifies failures).</param>
    /// <param name="seconds">Its latency.</param>
    /// <param name="bytesSent">Object bytes uploaded (PUT body).</param>
    /// <param name="bytesReceived">Object bytes downloaded (GET body).</param>
    public void RecordS3Request(S3Operation operation, S3Outcome outcome, double seconds, long bytesSent = 0, long bytesReceived = 0) =>
        _s3.Record(operation, outcome, seconds, bytesSent, bytesReceived);

    /// <summary>An object-store request will be retried.</summary>
    public void RecordS3Retry(S3Operation operation) => _s3.RecordRetry(operation);

    /// <summary>
    /// An object-store request will be retried; the signature of <c>RetryingObjectStore</c>'s and
    /// <c>ObjectStoreFactory.Create</c>'s <c>onRetry</c> callback, so it can be passed as
    /// <c>onRetry: metrics.RecordS3Retry</c>. Unknown operation names are ignored.
    /// </summary>
    public void RecordS3Retry(string operation, ObjectStoreException error)
    {
        if (S3OperationLabels.FromStoreName(operation) is { } known)
        {
            _s3.RecordRetry(known);
        }
    }

    // ------------------------------------------------------------------------------------- snapshots

    /// <summary>The volume: dirty data, data-loss window, commits, uploads, fetches, garbage, fault.</summary>
    public void RegisterVolume(Func<VolumeSnapshot?>? snapshot) => _volume.Source.Register(snapshot);

    /// <summary>The volume lease: held and epoch.</summary>
    public void RegisterLease(Func<LeaseSnapshot?>? snapshot) => _volume.Lease.Register(snapshot);

    /// <summary>The flush journal: fill, appends, syncs and their latency histogram, backpressure.</summary>
    public void RegisterJournal(Func<JournalSnapshot?>? snapshot) => _journal.Source.Register(snapshot);

    /// <summary>The clean-chunk cache: hits, misses, evictions, bytes, per tier.</summary>
    public void RegisterCache(Func<CacheSnapshot?>? snapshot) => _cache.Source.Register(snapshot);

    /// <summary>The ublk queues: requests in flight and depth, per queue.</summary>
    public void RegisterQueues(Func<IReadOnlyList<QueueSnapshot>?>? snapshot) => _io.Queues.Register(snapshot);

    /// <summary>The served device (<c>s3block_device_info</c>, size).</summary>
    public void RegisterDevice(Func<DeviceSnapshot?>? snapshot) => _info.Device.Register(snapshot);

    /// <summary>Threads on which PR_SET_IO_FLUSHER failed (e.g. <c>() =&gt; IoFlusher.FailureCount</c>).</summary>
    public void RegisterIoFlusherFailures(Func<long>? failures) => _io.RegisterIoFlusherFailures(failures);

    /// <summary>Disposes the meter: instruments stop reporting.</summary>
    public void Dispose() => Meter.Dispose();

    private static string DefaultVersion() =>
        typeof(S3BlockMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(S3BlockMetrics).Assembly.GetName().Version?.ToString()
        ?? "unknown";
}
