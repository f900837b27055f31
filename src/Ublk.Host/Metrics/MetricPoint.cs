namespace S3Block.Ublk.Metrics;

/// <summary>
/// One series of a <see cref="MetricFamily"/>: its labels (names as given; the formatter sanitizes names and escapes
/// values) and its value(s).
/// </summary>
public abstract record MetricPoint(IReadOnlyList<KeyValuePair<string, string>> Labels);

/// <summary>A counter or gauge sample.</summary>
public sealed record ValuePoint(IReadOnlyList<KeyValuePair<string, string>> Labels, double Value) : MetricPoint(Labels);

/// <summary>A histogram sample.</summary>
/// <param name="Labels">The series' labels (without <c>le</c>).</param>
/// <param name="UpperBounds">The finite bucket upper bounds, ascending.</param>
/// <param name="BucketCounts">
/// Per-bucket counts, <em>not</em> cumulative: one per bound, plus a last one for samples above every bound. The
/// formatter makes them cumulative and derives <c>_count</c> from them, so <c>_count</c> always equals the
/// <c>+Inf</c> bucket.
/// </param>
/// <param name="Sum">The sum of all samples.</param>
public sealed record HistogramPoint(
    IReadOnlyList<KeyValuePair<string, string>> Labels,
    IReadOnlyList<double> UpperBounds,
    IReadOnlyList<long> BucketCounts,
    double Sum) : MetricPoint(Labels)
{
    /// <summary>Samples in all buckets.</summary>
    public long Count => BucketCounts.Sum();
}
