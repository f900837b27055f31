namespace S3Block.Ublk.Metrics;

/// <summary>
/// All series of one metric name, as written in one <c># HELP</c>/<c># TYPE</c> block. Counter and gauge families
/// hold <see cref="ValuePoint"/>s, histogram families <see cref="HistogramPoint"/>s.
/// </summary>
/// <param name="Name">The exported name, exactly (e.g. <c>s3block_io_requests_total</c>); sanitized when written.</param>
/// <param name="Type">The Prometheus type.</param>
/// <param name="Help">One line of help (from the instrument's description); may be empty.</param>
/// <param name="Points">The series.</param>
public sealed record MetricFamily(string Name, MetricType Type, string Help, IReadOnlyList<MetricPoint> Points)
{
    /// <summary>A family with a single unlabelled value.</summary>
    public static MetricFamily Single(string name, MetricType type, string help, double value) =>
        new(name, type, help, [new ValuePoint([], value)]);
}
