namespace S3Block.Ublk.Metrics;

/// <summary>
/// Produces one scrape: collects every source, merges families of the same name, and formats them as Prometheus
/// text. Scrapes run one at a time (observable callbacks and snapshot caches assume it); recording never waits for a
/// scrape.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private readonly IReadOnlyList<IMetricSource> _sources;
    private readonly IReadOnlyList<IDisposable> _owned;
    private readonly Lock _scrapeLock = new();

    /// <summary>An exporter over <paramref name="sources"/>; the caller keeps ownership of them.</summary>
    public PrometheusExporter(IEnumerable<IMetricSource> sources)
        : this([.. sources], [])
    {
    }

    private PrometheusExporter(IReadOnlyList<IMetricSource> sources, IReadOnlyList<IDisposable> owned)
    {
        _sources = sources;
        _owned = owned;
    }

    /// <summary>
    /// The daemon's exporter: every meter whose name starts with <paramref name="metrics"/>' meter name (so
    /// <c>S3Block</c> and <c>S3Block.*</c> in production), the catalog's snapshot histograms, and, unless turned off,
    /// the process and .NET runtime metrics.
    /// </summary>
    public static PrometheusExporter Create(S3BlockMetrics metrics, bool includeProcessMetrics = true)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var prefix = metrics.Meter.Name;
        var collector = new MeterCollector(meter => meter.Name.StartsWith(prefix, StringComparison.Ordinal));
        List<IMetricSource> sources = [collector, metrics.SnapshotHistograms];
        if (includeProcessMetrics)
        {
            sources.Add(new ProcessMetrics());
            sources.Add(new RuntimeMetrics());
        }

        return new PrometheusExporter(sources, [collector]);
    }

    /// <summary>Collects every source and returns the exposition text.</summary>
    public string Scrape()
    {
        lock (_scrapeLock)
        {
            var families = new List<MetricFamily>();
            foreach (var source in _sources)
            {
                source.Collect(families);
            }

            return PrometheusTextFormatter.Format(Merge(families));
        }
    }

    /// <summary>Disposes the collector <see cref="Create"/> made.</summary>
    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }

    /// <summary>
    /// One family per name, sorted by name, without empty families. The same name from two sources (e.g. two meters
    /// with the same instrument) is merged when the types agree; a conflicting type, or a label set already present,
    /// is dropped, because Prometheus rejects a scrape with duplicate series.
    /// </summary>
    internal static IEnumerable<MetricFamily> Merge(IEnumerable<MetricFamily> families)
    {
        var byName = new SortedDictionary<string, (MetricFamily First, List<MetricPoint> Points, HashSet<string> Keys)>(StringComparer.Ordinal);
        foreach (var family in families)
        {
            var name = PrometheusNames.SanitizeMetricName(family.Name);
            if (!byName.TryGetValue(name, out var merged))
            {
                merged = (family with { Name = name }, [], []);
                byName.Add(name, merged);
            }
            else if (merged.First.Type != family.Type)
            {
                continue;
            }

            foreach (var point in family.Points)
            {
                if (merged.Keys.Add(LabelKey(point.Labels)))
                {
                    merged.Points.Add(point);
                }
            }
        }

        return byName.Values
            .Where(m => m.Points.Count > 0)
            .Select(m => m.First with { Points = m.Points });
    }

    private static string LabelKey(IReadOnlyList<KeyValuePair<string, string>> labels) =>
        string.Join('\u0001', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}\u0002{l.Value}"));
}
