using Prometheus;

namespace S3Block.Ublk.Metrics;

/// <summary>Object-store requests (hot path): count by operation and outcome, latency, retries, bytes.</summary>
internal sealed class S3Instruments
{
    // Children resolved once: [operation][outcome] and [operation].
    private readonly Counter.Child[][] _requests;
    private readonly Histogram.Child[] _duration;
    private readonly Counter.Child[] _retries;
    private readonly Counter.Child _uploaded;
    private readonly Counter.Child _downloaded;

    public S3Instruments(IMetricFactory factory)
    {
        var suppressed = new CounterConfiguration { SuppressInitialValue = true };
        var requests = factory.CreateCounter("s3block_s3_requests_total",
            "Object-store requests (each attempt, retries included), by S3 operation and outcome.", ["operation", "outcome"], suppressed);
        var duration = factory.CreateHistogram("s3block_s3_request_duration_seconds",
            "Object-store request latency in seconds (each attempt), by S3 operation.",
            ["operation"], new HistogramConfiguration { Buckets = [.. HistogramBuckets.S3Request], SuppressInitialValue = true });
        // Published at 0 for every operation from the start: the dashboard and the alert rules rate() it, and a series
        // that appears only with the first retry would show "no data" on a healthy volume.
        var retries = factory.CreateCounter("s3block_s3_retries_total",
            "Object-store requests retried after a transient failure, by S3 operation.", ["operation"]);
        var bytes = factory.CreateCounter("s3block_s3_bytes_total",
            "Object bytes sent to (upload) and received from (download) the object store.", ["direction"], suppressed);

        _requests = [.. S3OperationLabels.All.Select(op => S3OutcomeLabels.All.Select(o => requests.WithLabels(op.ToLabel(), o.ToLabel())).ToArray())];
        _duration = [.. S3OperationLabels.All.Select(op => duration.WithLabels(op.ToLabel()))];
        _retries = [.. S3OperationLabels.All.Select(op => retries.WithLabels(op.ToLabel()))];
        _uploaded = bytes.WithLabels("upload");
        _downloaded = bytes.WithLabels("download");
    }

    public void Record(S3Operation operation, S3Outcome outcome, double seconds, long bytesSent, long bytesReceived)
    {
        _requests[(int)operation][(int)outcome].Inc();
        _duration[(int)operation].Observe(seconds);
        if (bytesSent > 0)
        {
            _uploaded.Inc(bytesSent);
        }

        if (bytesReceived > 0)
        {
            _downloaded.Inc(bytesReceived);
        }
    }

    public void RecordRetry(S3Operation operation) => _retries[(int)operation].Inc();
}
