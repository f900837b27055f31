using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace S3Block.Ublk.Metrics;

/// <summary>
/// Listens to <see cref="System.Diagnostics.Metrics"/> instruments of selected meters (by default every meter whose
/// name starts with <c>S3Block</c>) and aggregates them for Prometheus:
/// <list type="bullet">
/// <item>Counter → counter (running sum); UpDownCounter → gauge (running sum);</item>
/// <item>ObservableCounter → counter, ObservableGauge / ObservableUpDownCounter / Gauge → gauge (last value);</item>
/// <item>Histogram → histogram with the instrument's advised bucket bounds, else <see cref="HistogramBuckets.Default"/>.</item>
/// </list>
/// The exported name is the instrument name (sanitized; see <see cref="PrometheusNames"/>), the help line its
/// description, and tags become labels.
/// </summary>
/// <remarks>
/// Recording (the I/O paths) touches only the instrument's own series: a lock-free lookup and an interlocked add.
/// <see cref="Collect"/> runs observable callbacks and reads the series; it is meant to be called one at a time
/// (<see cref="PrometheusExporter"/> serializes scrapes).
/// </remarks>
public sealed class MeterCollector : IMetricSource, IDisposable
{
    /// <summary>The default meter-name prefix.</summary>
    public const string DefaultMeterPrefix = "S3Block";

    private readonly MeterListener _listener;
    private readonly ConcurrentDictionary<Instrument, InstrumentAggregator> _aggregators = new();
    private readonly Func<Meter, bool> _meterFilter;
    private long _callbackErrors;

    /// <param name="meterFilter">Which meters to collect; default: names starting with <see cref="DefaultMeterPrefix"/>.</param>
    public MeterCollector(Func<Meter, bool>? meterFilter = null)
    {
        _meterFilter = meterFilter ?? (meter => meter.Name.StartsWith(DefaultMeterPrefix, StringComparison.Ordinal));
        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
            MeasurementsCompleted = (instrument, _) => _aggregators.TryRemove(instrument, out InstrumentAggregator? _),
        };
        _listener.SetMeasurementEventCallback<byte>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<short>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<float>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => Record(state, value, tags));
        _listener.SetMeasurementEventCallback<decimal>((_, value, tags, state) => Record(state, (double)value, tags));
        _listener.Start();
    }

    /// <summary>Observable callbacks that threw, since start (exported as <c>s3block_metrics_callback_errors_total</c>).</summary>
    public long CallbackErrors => Interlocked.Read(ref _callbackErrors);

    /// <inheritdoc/>
    public void Collect(ICollection<MetricFamily> families)
    {
        var aggregators = _aggregators.Values.ToArray();
        foreach (var aggregator in aggregators)
        {
            aggregator.BeginObservation();
        }

        try
        {
            _listener.RecordObservableInstruments();
        }
        catch (AggregateException e)
        {
            // One bad callback loses its own instrument only: the listener runs the others before throwing.
            Interlocked.Add(ref _callbackErrors, e.InnerExceptions.Count);
        }

        foreach (var aggregator in aggregators)
        {
            families.Add(aggregator.Snapshot());
        }

        families.Add(MetricFamily.Single(
            "s3block_metrics_callback_errors_total", MetricType.Counter,
            "Observable instrument callbacks that threw during a scrape (their values are missing from that scrape).",
            CallbackErrors));
    }

    /// <summary>Stops listening; instruments stay usable but are no longer recorded here.</summary>
    public void Dispose() => _listener.Dispose();

    /// <summary>How an instrument is aggregated, or null for kinds this exporter does not know.</summary>
    internal static InstrumentAggregator? CreateAggregator(Instrument instrument)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }

        var kind = type.GetGenericTypeDefinition();
        var name = PrometheusNames.SanitizeMetricName(instrument.Name);
        var help = instrument.Description ?? "";
        if (kind == typeof(Counter<>))
        {
            return new SumAggregator(name, help, MetricType.Counter);
        }

        if (kind == typeof(UpDownCounter<>))
        {
            return new SumAggregator(name, help, MetricType.Gauge);
        }

        if (kind == typeof(ObservableCounter<>))
        {
            return new LastValueAggregator(name, help, MetricType.Counter, observed: true);
        }

        if (kind == typeof(ObservableUpDownCounter<>) || kind == typeof(ObservableGauge<>))
        {
            return new LastValueAggregator(name, help, MetricType.Gauge, observed: true);
        }

        if (kind == typeof(Gauge<>))
        {
            return new LastValueAggregator(name, help, MetricType.Gauge, observed: false);
        }

        if (kind == typeof(Histogram<>))
        {
            return new HistogramAggregator(name, help, HistogramBuckets.Normalize(AdvisedBounds(instrument)));
        }

        return null;
    }

    /// <summary><c>InstrumentAdvice.HistogramBucketBoundaries</c>, converted to doubles, or null.</summary>
    private static IEnumerable<double>? AdvisedBounds(Instrument instrument) => instrument switch
    {
        Instrument<double> i => i.Advice?.HistogramBucketBoundaries,
        Instrument<float> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
        Instrument<long> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
        Instrument<int> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
        Instrument<short> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
        Instrument<byte> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
        Instrument<decimal> i => i.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
        _ => null,
    };

    private static void Record(object? state, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        ((InstrumentAggregator)state!).Record(value, tags);

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!_meterFilter(instrument.Meter))
        {
            return;
        }

        var aggregator = CreateAggregator(instrument);
        if (aggregator is not null && _aggregators.TryAdd(instrument, aggregator))
        {
            listener.EnableMeasurementEvents(instrument, aggregator);
        }
    }
}
