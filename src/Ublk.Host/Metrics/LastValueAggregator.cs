namespace S3Block.Ublk.Metrics;

/// <summary>
/// Observable instruments (whose callbacks report the current total or level) and synchronous gauges: the last value
/// per tag set.
/// </summary>
/// <param name="name">The exported name.</param>
/// <param name="help">The help line.</param>
/// <param name="type">Counter for ObservableCounter, otherwise gauge.</param>
/// <param name="observed">
/// True for observable instruments: series start empty at each collection, so a tag set the callback stops reporting
/// (a removed queue, a volume that went away) disappears instead of exporting a stale value forever.
/// </param>
internal sealed class LastValueAggregator(string name, string help, MetricType type, bool observed)
    : InstrumentAggregator(name, help, type)
{
    private readonly SeriesTable<DoubleCell> _series = new(() => new DoubleCell());

    public override bool IsObserved => observed;

    public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _series.GetOrAdd(tags).Set(value);

    public override void BeginObservation()
    {
        if (observed)
        {
            _series.Clear();
        }
    }

    public override MetricFamily Snapshot() =>
        new(Name, Type, Help, [.. _series.Snapshot().Select(s => new ValuePoint(s.Labels, s.Cell.Value))]);
}
