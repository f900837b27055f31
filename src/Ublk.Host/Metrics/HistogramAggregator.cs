namespace S3Block.Ublk.Metrics;

/// <summary>Histogram: per tag set, a count per explicit bucket (plus one above the last bound) and the sum.</summary>
internal sealed class HistogramAggregator : InstrumentAggregator
{
    private readonly double[] _bounds;
    private readonly SeriesTable<Cell> _series;

    /// <param name="name">The exported name.</param>
    /// <param name="help">The help line.</param>
    /// <param name="bounds">Finite upper bounds, ascending, no duplicates (see <see cref="HistogramBuckets.Normalize"/>).</param>
    public HistogramAggregator(string name, string help, double[] bounds)
        : base(name, help, MetricType.Histogram)
    {
        _bounds = bounds;
        _series = new SeriesTable<Cell>(() => new Cell(bounds.Length + 1));
    }

    public IReadOnlyList<double> Bounds => _bounds;

    public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (double.IsNaN(value))
        {
            return;
        }

        // The first bound >= value: "le" buckets include their upper bound.
        var bucket = Array.BinarySearch(_bounds, value);
        if (bucket < 0)
        {
            bucket = ~bucket;
        }

        var cell = _series.GetOrAdd(tags);
        Interlocked.Increment(ref cell.Counts[bucket]);
        cell.Sum.Add(value);
    }

    public override MetricFamily Snapshot() =>
        new(Name, Type, Help, [.. _series.Snapshot().Select(s => s.Cell.ToPoint(s.Labels, _bounds))]);

    private sealed class Cell(int buckets)
    {
        public readonly long[] Counts = new long[buckets];
        public readonly DoubleCell Sum = new();

        public HistogramPoint ToPoint(IReadOnlyList<KeyValuePair<string, string>> labels, double[] bounds)
        {
            var counts = new long[Counts.Length];
            for (var i = 0; i < counts.Length; i++)
            {
                counts[i] = Interlocked.Read(ref Counts[i]);
            }

            return new HistogramPoint(labels, bounds, counts, Sum.Value);
        }
    }
}
