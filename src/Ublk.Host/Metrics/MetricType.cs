namespace S3Block.Ublk.Metrics;

/// <summary>The Prometheus metric types this exporter writes (the <c># TYPE</c> line).</summary>
public enum MetricType
{
    /// <summary>A monotonic total; the name ends in <c>_total</c>.</summary>
    Counter,

    /// <summary>A value that goes up and down.</summary>
    Gauge,

    /// <summary>Cumulative buckets (<c>_bucket{le=...}</c>) with <c>_sum</c> and <c>_count</c>.</summary>
    Histogram,
}
