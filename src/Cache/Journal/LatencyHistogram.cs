using System.Diagnostics;

namespace S3Block.Cache.Journal;

/// <summary>
/// A fixed exponential histogram of durations: bucket <c>i</c> counts samples ≤ 100 µs × 2^i (i = 0..16, up to
/// 6.5536 s); the last bucket counts everything slower. Thread-safe.
/// </summary>
public sealed class LatencyHistogram
{
    private const int Buckets = 17;
    private static readonly double[] Bounds = CreateBounds();
    private readonly long[] _counts = new long[Buckets + 1];

    /// <summary>Upper bounds in seconds of the finite buckets (the last, overflow bucket has none).</summary>
    public static IReadOnlyList<double> UpperBoundsSeconds => Bounds;

    /// <summary>Adds a sample measured in <see cref="Stopwatch"/> ticks.</summary>
    public void Record(long stopwatchTicks)
    {
        var seconds = (double)stopwatchTicks / Stopwatch.Frequency;
        var bucket = 0;
        while (bucket < Buckets && seconds > Bounds[bucket])
        {
            bucket++;
        }

        Interlocked.Increment(ref _counts[bucket]);
    }

    /// <summary>Per-bucket counts (not cumulative); one more entry than <see cref="UpperBoundsSeconds"/>.</summary>
    public long[] Snapshot()
    {
        var copy = new long[_counts.Length];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = Interlocked.Read(ref _counts[i]);
        }

        return copy;
    }

    private static double[] CreateBounds()
    {
        var bounds = new double[Buckets];
        for (var i = 0; i < Buckets; i++)
        {
            bounds[i] = 0.0001 * (1 << i);
        }

        return bounds;
    }
}
