namespace S3Block.Ublk.Metrics;

/// <summary>Bucket layouts for histograms (upper bounds in the instrument's unit, seconds for our latencies).</summary>
public static class HistogramBuckets
{
    /// <summary>Block I/O served locally (cache, journal): 100 µs to 3.3 s (16 buckets).</summary>
    public static IReadOnlyList<double> BlockIo { get; } = Exponential(0.0001, 2, 16);

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
}
