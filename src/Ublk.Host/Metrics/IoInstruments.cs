using System.Diagnostics.Metrics;
using System.Globalization;

namespace S3Block.Ublk.Metrics;

/// <summary>Block I/O: requests, bytes and latency by operation (hot path), in-flight per queue (snapshot).</summary>
internal sealed class IoInstruments
{
    private readonly Counter<long> _requests;
    private readonly Counter<long> _bytes;
    private readonly Histogram<double> _duration;

    // Tag arrays built once so that recording never allocates: [op, result] and [op].
    private readonly KeyValuePair<string, object?>[][][] _opResultTags;
    private readonly KeyValuePair<string, object?>[][] _opTags;
    private Func<long>? _ioFlusherFailures;

    public IoInstruments(Meter meter, TimeProvider time)
    {
        _requests = meter.CreateCounter<long>("s3block_io_requests_total", "{request}",
            "Block I/O requests completed, by operation and result (ok, error: the backend failed it, rejected: refused before the backend).");
        _bytes = meter.CreateCounter<long>("s3block_io_bytes_total", "By",
            "Bytes of successful block I/O requests, by operation (discard and write_zeroes count the range they cover).");
        _duration = meter.CreateHistogram("s3block_io_duration_seconds", "s",
            "Block I/O request latency from the queue taking it to its completion, in seconds, by operation and result.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = HistogramBuckets.BlockIo });

        _opTags = [.. BlockOpLabels.All.Select(op => new[] { Observations.Tag("op", op.ToLabel()) })];
        _opResultTags = [.. BlockOpLabels.All.Select(op => IoResultLabels.All
            .Select(result => new[] { Observations.Tag("op", op.ToLabel()), Observations.Tag("result", result.ToLabel()) })
            .ToArray())];

        Queues = new SnapshotSource<IReadOnlyList<QueueSnapshot>>(time);
        meter.CreateObservableGauge("s3block_io_inflight", () => ObserveQueues(q => q.InFlight), "{request}",
            "Requests a ublk queue has handed to the backend and not yet completed, by queue.");
        meter.CreateObservableGauge("s3block_io_queue_depth", () => ObserveQueues(q => q.Depth), "{request}",
            "Configured depth (most requests in flight) of each ublk queue.");
        meter.CreateObservableCounter("s3block_io_flusher_failures_total",
            () => _ioFlusherFailures is { } failures ? Observations.One(failures()) : Observations.None<long>(), "{thread}",
            "Threads serving block I/O on which PR_SET_IO_FLUSHER could not be set (needs CAP_SYS_RESOURCE); should be 0.");
    }

    public SnapshotSource<IReadOnlyList<QueueSnapshot>> Queues { get; }

    public void RegisterIoFlusherFailures(Func<long>? failures) => Volatile.Write(ref _ioFlusherFailures, failures);

    public void Record(BlockOp op, long bytes, double seconds, IoResult result)
    {
        var tags = _opResultTags[(int)op][(int)result];
        _requests.Add(1, tags);
        if (result == IoResult.Ok && bytes > 0)
        {
            _bytes.Add(bytes, _opTags[(int)op]);
        }

        _duration.Record(seconds, tags);
    }

    private IEnumerable<Measurement<long>> ObserveQueues(Func<QueueSnapshot, int> value) =>
        Queues.Get() is { } queues
            ? [.. queues.Select(q => new Measurement<long>(value(q),
                Observations.Tag("queue", q.Queue.ToString(CultureInfo.InvariantCulture))))]
            : Observations.None<long>();
}
