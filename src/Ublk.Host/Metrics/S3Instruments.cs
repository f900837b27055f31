using System.Diagnostics.Metrics;

namespace S3Block.Ublk.Metrics;

/// <summary>Object-store requests (hot path): count by operation and outcome, latency, retries, bytes.</summary>
internal sealed class S3Instruments
{
    private static readonly KeyValuePair<string, object?>[] Upload = [Observations.Tag("direction", "upload")];
    private static readonly KeyValuePair<string, object?>[] Download = [Observations.Tag("direction", "download")];

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _bytes;

    // Tag arrays built once: [operation, outcome] and [operation].
    private readonly KeyValuePair<string, object?>[][][] _operationOutcomeTags;
    private readonly KeyValuePair<string, object?>[][] _operationTags;

    public S3Instruments(Meter meter)
    {
        _requests = meter.CreateCounter<long>("s3block_s3_requests_total", "{request}",
            "Object-store requests (each attempt, retries included), by S3 operation and outcome.");
        _duration = meter.CreateHistogram("s3block_s3_request_duration_seconds", "s",
            "Object-store request latency in seconds (each attempt), by S3 operation.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = HistogramBuckets.S3Request });
        _retries = meter.CreateCounter<long>("s3block_s3_retries_total", "{retry}",
            "Object-store requests retried after a transient failure, by S3 operation.");
        _bytes = meter.CreateCounter<long>("s3block_s3_bytes_total", "By",
            "Object bytes sent to (upload) and received from (download) the object store.");

        _operationTags = [.. S3OperationLabels.All.Select(op => new[] { Observations.Tag("operation", op.ToLabel()) })];
        _operationOutcomeTags = [.. S3OperationLabels.All.Select(op => S3OutcomeLabels.All
            .Select(outcome => new[] { Observations.Tag("operation", op.ToLabel()), Observations.Tag("outcome", outcome.ToLabel()) })
            .ToArray())];
    }

    public void Record(S3Operation operation, S3Outcome outcome, double seconds, long bytesSent, long bytesReceived)
    {
        _requests.Add(1, _operationOutcomeTags[(int)operation][(int)outcome]);
        _duration.Record(seconds, _operationTags[(int)operation]);
        if (bytesSent > 0)
        {
            _bytes.Add(bytesSent, Upload);
        }

        if (bytesReceived > 0)
        {
            _bytes.Add(bytesReceived, Download);
        }
    }

    public void RecordRetry(S3Operation operation) => _retries.Add(1, _operationTags[(int)operation]);
}
