using System.Globalization;
using Prometheus;

namespace S3Block.Ublk.Metrics;

/// <summary>Block I/O: requests, bytes and latency by operation (hot path), in-flight per queue (snapshot).</summary>
internal sealed class IoInstruments
{
    // Children resolved once, so that recording is an array lookup and an interlocked add: no allocation, no lock.
    private readonly Counter.Child[][] _requests;
    private readonly Counter.Child[] _bytes;
    private readonly Histogram.Child[][] _duration;

    public IoInstruments(IMetricFactory factory)
    {
        var suppressed = new CounterConfiguration { SuppressInitialValue = true };
        var requests = factory.CreateCounter("s3block_io_requests_total",
            "Block I/O requests completed, by operation and result (ok, error: the backend failed it, rejected: refused before the backend).",
            ["op", "result"], suppressed);
        var bytes = factory.CreateCounter("s3block_io_bytes_total",
            "Bytes of successful block I/O requests, by operation (discard and write_zeroes count the range they cover).",
            ["op"], suppressed);
        var duration = factory.CreateHistogram("s3block_io_duration_seconds",
            "Block I/O request latency from the queue taking it to its completion, in seconds, by operation and result.",
            ["op", "result"], new HistogramConfiguration { Buckets = [.. HistogramBuckets.BlockIo], SuppressInitialValue = true });

        _requests = [.. BlockOpLabels.All.Select(op => IoResultLabels.All.Select(r => requests.WithLabels(op.ToLabel(), r.ToLabel())).ToArray())];
        _bytes = [.. BlockOpLabels.All.Select(op => bytes.WithLabels(op.ToLabel()))];
        _duration = [.. BlockOpLabels.All.Select(op => IoResultLabels.All.Select(r => duration.WithLabels(op.ToLabel(), r.ToLabel())).ToArray())];

        Queues = new SnapshotSeries<IReadOnlyList<QueueSnapshot>>(factory);
        Queues.LabelledGauge("s3block_io_inflight",
            "Requests a ublk queue has handed to the backend and not yet completed, by queue.",
            "queue", qs => qs.Select(q => (Label(q), (double)q.InFlight)));
        Queues.LabelledGauge("s3block_io_queue_depth",
            "Configured depth (most requests in flight) of each ublk queue.",
            "queue", qs => qs.Select(q => (Label(q), (double)q.Depth)));

        var flusherFailures = factory.CreateCounter("s3block_io_flusher_failures_total",
            "Threads serving block I/O on which PR_SET_IO_FLUSHER could not be set (needs CAP_SYS_RESOURCE); should be 0.", suppressed);
        IoFlusher = new SnapshotSeries<Func<long>>(factory);
        IoFlusher.Custom(failures => flusherFailures.IncTo(failures()), flusherFailures.Unpublish);
    }

    public SnapshotSeries<IReadOnlyList<QueueSnapshot>> Queues { get; }

    public SnapshotSeries<Func<long>> IoFlusher { get; }

    public void Record(BlockOp op, long bytes, double seconds, IoResult result)
    {
        _requests[(int)op][(int)result].Inc();
        if (result == IoResult.Ok && bytes > 0)
        {
            _bytes[(int)op].Inc(bytes);
        }

        _duration[(int)op][(int)result].Observe(seconds);
    }

    private static string Label(QueueSnapshot q) => q.Queue.ToString(CultureInfo.InvariantCulture);
}
