namespace S3Block.Ublk.Metrics;

/// <summary>Counter and UpDownCounter: the running sum of the measurements per tag set.</summary>
internal sealed class SumAggregator(string name, string help, MetricType type) : InstrumentAggregator(name, help, type)
{
    private readonly SeriesTable<DoubleCell> _series = new(() => new DoubleCell());

    public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // One NaN would poison the running sum forever.
        if (!double.IsNaN(value))
        {
            _series.GetOrAdd(tags).Add(value);
        }
    }

    public override MetricFamily Snapshot() =>
        new(Name, Type, Help, [.. _series.Snapshot().Select(s => new ValuePoint(s.Labels, s.Cell.Value))]);
}
