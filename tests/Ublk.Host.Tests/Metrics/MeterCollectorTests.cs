using System.Diagnostics.Metrics;
using S3Block.Ublk.Metrics;

namespace S3Block.Ublk.Tests.Metrics;

public sealed class MeterCollectorTests : IDisposable
{
    private readonly Meter _meter = new($"S3Block.Tests.Collector.{Guid.NewGuid():N}");
    private readonly MeterCollector _collector;

    public MeterCollectorTests()
    {
        _collector = new MeterCollector(meter => ReferenceEquals(meter, _meter));
    }

    public void Dispose()
    {
        _collector.Dispose();
        _meter.Dispose();
    }

    [Fact]
    public void ACounterSumsPerTagSetWhateverTheTagOrder()
    {
        var counter = _meter.CreateCounter<long>("c_total", null, "Help.");
        counter.Add(1, new("a", "x"), new("b", "y"));
        counter.Add(2, new("b", "y"), new("a", "x"));
        counter.Add(5, new KeyValuePair<string, object?>("a", "z"), new("b", "y"));

        var family = Family("c_total");

        Assert.Equal(MetricType.Counter, family.Type);
        Assert.Equal("Help.", family.Help);
        Assert.Equal(3, Value(family, ("a", "x"), ("b", "y")));
        Assert.Equal(5, Value(family, ("a", "z"), ("b", "y")));
        Assert.Equal(2, family.Points.Count);
    }

    [Fact]
    public void LabelsAreSortedByNameAndTagValuesOfAnyTypeBecomeStrings()
    {
        var counter = _meter.CreateCounter<int>("typed_total");
        counter.Add(1, new("z", 7), new("m", true), new("a", 0.5), new("n", null));

        var point = Assert.Single(Family("typed_total").Points);

        Assert.Equal([new("a", "0.5"), new("m", "true"), new("n", ""), new("z", "7")], point.Labels);
    }

    [Fact]
    public void AnUpDownCounterIsAGaugeOfTheNetSum()
    {
        var inflight = _meter.CreateUpDownCounter<int>("inflight");
        inflight.Add(5);
        inflight.Add(-3);

        var family = Family("inflight");

        Assert.Equal(MetricType.Gauge, family.Type);
        Assert.Equal(2, Value(family));
    }

    [Fact]
    public void ObservableInstrumentsReportTheirCallbackValuesAndForgetSeriesTheyStopReporting()
    {
        var queues = new List<int> { 0, 1 };
        _meter.CreateObservableGauge("queue_level",
            () => queues.Select(q => new Measurement<double>(q * 10.0, new KeyValuePair<string, object?>("queue", q))));
        _meter.CreateObservableCounter("observed_total", () => 42L);

        var first = Collect();
        Assert.Equal(MetricType.Counter, first["observed_total"].Type);
        Assert.Equal(42, Value(first["observed_total"]));
        Assert.Equal(MetricType.Gauge, first["queue_level"].Type);
        Assert.Equal(10, Value(first["queue_level"], ("queue", "1")));

        queues.Remove(1);
        var second = Collect();

        Assert.Equal(["0"], second["queue_level"].Points.Select(p => p.Labels.Single().Value));
    }

    [Fact]
    public void ASynchronousGaugeKeepsItsLastValue()
    {
        var gauge = _meter.CreateGauge<long>("last_value");
        gauge.Record(3);
        gauge.Record(9);

        Assert.Equal(9, Value(Family("last_value")));
        Assert.Equal(9, Value(Family("last_value")));
    }

    [Fact]
    public void AHistogramUsesTheAdvisedBucketBoundaries()
    {
        var histogram = _meter.CreateHistogram("advised_seconds", "s", "Latency.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.1, 1] });
        histogram.Record(0.005);
        histogram.Record(0.01); // on a bound: le is inclusive
        histogram.Record(0.5);
        histogram.Record(7);

        var point = Assert.IsType<HistogramPoint>(Assert.Single(Family("advised_seconds").Points));

        Assert.Equal([0.01, 0.1, 1], point.UpperBounds);
        Assert.Equal([2L, 0, 1, 1], point.BucketCounts);
        Assert.Equal(4, point.Count);
        Assert.Equal(7.515, point.Sum, 9);
    }

    [Fact]
    public void AHistogramWithoutAdviceUsesTheDefaultBuckets()
    {
        var histogram = _meter.CreateHistogram<int>("plain_seconds");
        histogram.Record(1);

        var point = Assert.IsType<HistogramPoint>(Assert.Single(Family("plain_seconds").Points));

        Assert.Equal(HistogramBuckets.Default, point.UpperBounds);
    }

    [Fact]
    public void IntegerHistogramAdviceIsHonoured()
    {
        var histogram = _meter.CreateHistogram("sizes_bytes", "By", null, tags: null,
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [4096, 65536] });
        histogram.Record(4096);
        histogram.Record(100_000);

        var point = Assert.IsType<HistogramPoint>(Assert.Single(Family("sizes_bytes").Points));

        Assert.Equal([4096.0, 65536], point.UpperBounds);
        Assert.Equal([1L, 0, 1], point.BucketCounts);
    }

    [Fact]
    public void AThrowingCallbackLosesOnlyItsOwnInstrumentAndIsCounted()
    {
        Func<long> broken = () => throw new InvalidOperationException("boom");
        _meter.CreateObservableGauge("broken", broken);
        _meter.CreateObservableGauge("fine", () => 1L);

        var families = Collect();

        Assert.Empty(families["broken"].Points);
        Assert.Equal(1, Value(families["fine"]));
        Assert.Equal(1, _collector.CallbackErrors);
        Assert.Equal(1, Value(families["s3block_metrics_callback_errors_total"]));
    }

    [Fact]
    public void MetersOutsideTheFilterAreIgnoredAndTheDefaultFilterIsTheS3BlockPrefix()
    {
        using var other = new Meter($"Other.{Guid.NewGuid():N}");
        other.CreateCounter<long>("other_total").Add(1);
        using var prefixed = new Meter($"S3Block.Tests.Prefix.{Guid.NewGuid():N}");
        var prefixedCounter = prefixed.CreateCounter<long>("prefixed_total");
        using var byPrefix = new MeterCollector();
        prefixedCounter.Add(1);
        other.CreateCounter<long>("other2_total").Add(1);

        Assert.DoesNotContain("other_total", Collect().Keys);
        var families = new List<MetricFamily>();
        byPrefix.Collect(families);
        Assert.Contains(families, f => f.Name == "prefixed_total" && f.Points.Count == 1);
        Assert.DoesNotContain(families, f => f.Name.StartsWith("other", StringComparison.Ordinal));
    }

    [Fact]
    public void InstrumentsOfADisposedMeterDisappear()
    {
        var meter = new Meter($"S3Block.Tests.Disposed.{Guid.NewGuid():N}");
        using var collector = new MeterCollector(m => ReferenceEquals(m, meter));
        meter.CreateCounter<long>("gone_total").Add(1);
        var families = new List<MetricFamily>();
        collector.Collect(families);
        Assert.Contains(families, f => f.Name == "gone_total");

        meter.Dispose();
        families.Clear();
        collector.Collect(families);

        Assert.DoesNotContain(families, f => f.Name == "gone_total");
    }

    [Fact]
    public async Task ConcurrentRecordingLosesNothingWhileScrapesRun()
    {
        var counter = _meter.CreateCounter<long>("parallel_total");
        var histogram = _meter.CreateHistogram<double>("parallel_seconds");
        string[] ops = ["read", "write", "flush"];
        using var stop = new CancellationTokenSource();
        var scraper = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                Collect();
            }
        }, TestContext.Current.CancellationToken);

        Parallel.For(0, 8, thread =>
        {
            for (var i = 0; i < 50_000; i++)
            {
                var tag = new KeyValuePair<string, object?>("op", ops[i % 3]);
                counter.Add(1, tag);
                histogram.Record(0.001, tag);
            }
        });
        await stop.CancelAsync();
        await scraper;

        var families = Collect();
        Assert.Equal(400_000, families["parallel_total"].Points.Cast<ValuePoint>().Sum(p => p.Value));
        Assert.Equal(400_000, families["parallel_seconds"].Points.Cast<HistogramPoint>().Sum(p => p.Count));
        Assert.Equal(400, families["parallel_seconds"].Points.Cast<HistogramPoint>().Sum(p => p.Sum), 6);
    }

    private Dictionary<string, MetricFamily> Collect()
    {
        var families = new List<MetricFamily>();
        _collector.Collect(families);
        return families.ToDictionary(f => f.Name);
    }

    private MetricFamily Family(string name) => Collect()[name];

    private static double Value(MetricFamily family, params (string Name, string Value)[] labels)
    {
        var wanted = labels.Select(l => new KeyValuePair<string, string>(l.Name, l.Value)).OrderBy(l => l.Key, StringComparer.Ordinal);
        return family.Points.OfType<ValuePoint>().Single(p => p.Labels.SequenceEqual(wanted)).Value;
    }
}
