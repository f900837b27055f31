namespace S3Block.Ublk.Metrics;

/// <summary>Bucket layouts for histograms (upper bounds in the instrument's unit, seconds for our latencies).</summary>
public static class HistogramBuckets
{
    /// <summary>
    /// Used when an instrument comes without <c>InstrumentAdvice.HistogramBucketBoundaries</c>: Prometheus' client
    /// default, 5 ms to 10 s, which suits request latencies in seconds.
    /// </summary>
    internal static IReadOnlyList<double> Default { get; } = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Block I/O served locally (cache, journal): 100 µs to 3.3 s (16 buckets).</summary>
    public static IReadOnlyList<double> BlockIo { get; } = Exponential(0.0001, 2, 16);

    /// <summary>Journal fdatasync: 1 ms to 8.2 s (14 buckets), as etcd uses for its WAL fsync.</summary>
    public static IReadOnlyList<double> Fsync { get; } = Exponential(0.001, 2, 14);

    /// <summary>S3 requests: 5 ms to 20.5 s (13 buckets).</summary>
    public static IReadOnlyList<double> S3Request { get; } = Exponential(0.005, 2, 13);

    /// <summary><paramref name="count"/> bounds: <paramref name="start"/>, start × factor, start × factor², ...</summary>
    public static double[] Exponential(double start, double factor, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(start);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(factor, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var bounds = new double[count];
        for (var i = 0; i < count; i++)
        {
            // Rounded so that bounds print as 0.0008, not 0.0008000000000000001.
            bounds[i] = Math.Round(start * Math.Pow(factor, i), 12);
        }

        return bounds;
    }

    /// <summary>Sorted, finite, distinct bounds; <see cref="Default"/> when nothing usable remains.</summary>
    public static double[] Normalize(IEnumerable<double>? bounds)
    {
        var result = (bounds ?? []).Where(double.IsFinite).Distinct().Order().ToArray();
        return result.Length > 0 ? result : [.. Default];
    }
}
