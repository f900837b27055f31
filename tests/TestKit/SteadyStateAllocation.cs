namespace S3Block.TestKit;

/// <summary>
/// Measures what code allocates once it runs steadily, independent of the JIT: the first calls of a method (tiering,
/// on-stack replacement, lazy type and static initialisation) may allocate on the calling thread, the thousandth
/// must not. So: warm up, then measure several runs and keep the smallest. A real allocation per call shows in every
/// run (at least one object per call), one-off runtime work in some runs at most.
/// </summary>
public static class SteadyStateAllocation
{
    /// <summary>The fewest bytes this thread allocated over <paramref name="runs"/> runs of <paramref name="iterations"/>
    /// calls of <paramref name="action"/>, after <paramref name="warmups"/> unmeasured runs.</summary>
    public static long MinimumBytes(Action action, int iterations = 1000, int warmups = 3, int runs = 5)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iterations);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runs);
        for (var w = 0; w < warmups; w++)
        {
            Repeat(action, iterations);
        }

        var minimum = long.MaxValue;
        for (var r = 0; r < runs; r++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            Repeat(action, iterations);
            minimum = Math.Min(minimum, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return minimum;
    }

    private static void Repeat(Action action, int iterations)
    {
        for (var i = 0; i < iterations; i++)
        {
            action();
        }
    }
}
