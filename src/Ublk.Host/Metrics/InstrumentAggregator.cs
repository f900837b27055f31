namespace S3Block.Ublk.Metrics;

/// <summary>Accumulates one instrument's measurements into series and turns them into a <see cref="MetricFamily"/>.</summary>
internal abstract class InstrumentAggregator(string name, string help, MetricType type)
{
    public string Name { get; } = name;

    public string Help { get; } = help;

    public MetricType Type { get; } = type;

    /// <summary>True for observable instruments: their series are re-created at each collection.</summary>
    public virtual bool IsObserved => false;

    /// <summary>Called from the instrument's measurement path (hot for synchronous instruments).</summary>
    public abstract void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

    /// <summary>Before observable callbacks run: forget the previous collection's values.</summary>
    public virtual void BeginObservation()
    {
    }

    /// <summary>The current series as a family (possibly with no points).</summary>
    public abstract MetricFamily Snapshot();
}
