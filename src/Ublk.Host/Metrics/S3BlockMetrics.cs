using System.Reflection;
using Prometheus;
using S3Block.ObjectStore;

namespace S3Block.Ublk.Metrics;

/// <summary>
/// The daemon's metric catalog: every metric S3Block exports, with stable names, help and buckets, as prometheus-net
/// metrics on a <see cref="CollectorRegistry"/> of its own (<see cref="Registry"/>). Create one per process (a DI
/// singleton); tests create as many as they like, each isolated from the others.
/// </summary>
/// <remarks>
/// <para><b>Naming convention.</b> Each metric is created with its full Prometheus name, unit suffix and <c>_total</c>
/// included (<c>s3block_io_requests_total</c>, <c>s3block_io_duration_seconds</c>). Values are in base units (seconds,
/// bytes). Labels are low-cardinality enums: never keys or block numbers.</para>
/// <para><b>Two ways in.</b> Hot-path events are recorded with <c>Record*</c> methods (children resolved up front: no
/// allocation, no lock). Everything the components already count is read at scrape time from a snapshot delegate
/// given to a <c>Register*</c> method; each delegate is called once per scrape, before the registry collects, and may
/// return null for "nothing to report" (its series then disappear). Registering again replaces the delegate.</para>
/// <para>One volume and one device per process: the volume, journal, cache and device metrics carry no volume
/// label; <c>s3block_device_info</c> names the volume.</para>
/// </remarks>
public sealed class S3BlockMetrics : IDisposable
{
    private readonly IoInstruments _io;
    private readonly CacheInstruments _cache;
    private readonly JournalInstruments _journal;
    private readonly VolumeInstruments _volume;
    private readonly InfoInstruments _info;
    private readonly S3Instruments _s3;
    private readonly Counter _callbackErrors;
    private volatile bool _disposed;

    /// <param name="version">The <c>version</c> label of <c>s3block_build_info</c>; default: this assembly's
    /// informational version.</param>
    /// <param name="timeProvider">Clock for the commit lag; default: the system clock.</param>
    /// <param name="includeProcessMetrics">Also export prometheus-net's process and .NET runtime metrics
    /// (<c>process_*</c>, <c>dotnet_*</c>).</param>
    public S3BlockMetrics(string? version = null, TimeProvider? timeProvider = null, bool includeProcessMetrics = true)
    {
        Version = version ?? DefaultVersion();
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _info = new InfoInstruments(factory, Version);
        _io = new IoInstruments(factory);
        _cache = new CacheInstruments(factory);
        _journal = new JournalInstruments(factory);
        _volume = new VolumeInstruments(factory, timeProvider ?? TimeProvider.System);
        _s3 = new S3Instruments(factory);
        _callbackErrors = factory.CreateCounter("s3block_metrics_callback_errors_total",
            "Snapshot delegates that threw during a scrape (their series are left out of that scrape).");
        if (includeProcessMetrics)
        {
            DotNetStats.Register(Registry);
        }

        Registry.AddBeforeCollectCallback(RefreshSnapshots);
    }

    /// <summary>The registry every S3Block metric lives in; the endpoint serves it.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>The daemon version reported by <c>s3block_build_info</c>.</summary>
    public string Version { get; }

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
    public void RegisterVolume(Func<VolumeSnapshot?>? snapshot) => _volume.Series.Source.Register(snapshot);

    /// <summary>The volume lease: held and epoch.</summary>
    public void RegisterLease(Func<LeaseSnapshot?>? snapshot) => _volume.Lease.Source.Register(snapshot);

    /// <summary>The flush journal: fill, appends, syncs and their latency histogram, backpressure.</summary>
    public void RegisterJournal(Func<JournalSnapshot?>? snapshot) => _journal.Series.Source.Register(snapshot);

    /// <summary>The clean-chunk cache: hits, misses, evictions, bytes, per tier.</summary>
    public void RegisterCache(Func<CacheSnapshot?>? snapshot) => _cache.Series.Source.Register(snapshot);

    /// <summary>The ublk queues: requests in flight and depth, per queue.</summary>
    public void RegisterQueues(Func<IReadOnlyList<QueueSnapshot>?>? snapshot) => _io.Queues.Source.Register(snapshot);

    /// <summary>The served device (<c>s3block_device_info</c>, size).</summary>
    public void RegisterDevice(Func<DeviceSnapshot?>? snapshot) => _info.Device.Source.Register(snapshot);

    /// <summary>Threads on which PR_SET_IO_FLUSHER failed (e.g. <c>() =&gt; IoFlusher.FailureCount</c>).</summary>
    public void RegisterIoFlusherFailures(Func<long>? failures) =>
        _io.IoFlusher.Source.Register(failures is null ? null : () => failures);

    /// <summary>One scrape in the Prometheus text format (what <c>GET /metrics</c> returns).</summary>
    public async Task<string> ScrapeAsync(CancellationToken cancellationToken = default)
    {
        using var buffer = new MemoryStream();
        await Registry.CollectAndExportAsTextAsync(buffer, cancellationToken).ConfigureAwait(false);
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Stops reading snapshots (the registry cannot drop its callback; a disposed catalog's callback does nothing).</summary>
    public void Dispose() => _disposed = true;

    private void RefreshSnapshots()
    {
        if (_disposed)
        {
            return;
        }

        Refresh(_info.Device.Refresh);
        Refresh(_io.Queues.Refresh);
        Refresh(_io.IoFlusher.Refresh);
        Refresh(_cache.Series.Refresh);
        Refresh(_journal.Series.Refresh);
        Refresh(_volume.Series.Refresh);
        Refresh(_volume.Lease.Refresh);
    }

    private void Refresh(Action refresh)
    {
        try
        {
            refresh();
        }
#pragma warning disable CA1031 // A broken snapshot delegate must not fail the whole scrape: it is counted instead.
        catch (Exception)
#pragma warning restore CA1031
        {
            _callbackErrors.Inc();
        }
    }

    private static string DefaultVersion() =>
        typeof(S3BlockMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(S3BlockMetrics).Assembly.GetName().Version?.ToString()
        ?? "unknown";
}
