using Prometheus;

namespace S3Block.Ublk.Metrics;

/// <summary>
/// The series one snapshot source feeds, refreshed at scrape time by <see cref="Refresh"/>: each gauge is set from the
/// snapshot, each counter raised to the snapshot's total; with no snapshot, all of them are unpublished (left out of
/// the scrape) until a snapshot comes back.
/// </summary>
internal sealed class SnapshotSeries<T>(IMetricFactory factory)
    where T : class
{
    private static readonly GaugeConfiguration Suppressed = new() { SuppressInitialValue = true };
    private static readonly CounterConfiguration SuppressedCounter = new() { SuppressInitialValue = true };

    private readonly List<Action<T>> _update = [];
    private readonly List<Action> _hide = [];

    public SnapshotSource<T> Source { get; } = new();

    /// <summary>A gauge set to <paramref name="value"/>; null leaves it out of the scrape.</summary>
    public void Gauge(string name, string help, Func<T, double?> value)
    {
        var gauge = factory.CreateGauge(name, help, Suppressed);
        _update.Add(s =>
        {
            if (value(s) is { } v)
            {
                gauge.Set(v);
            }
            else
            {
                gauge.Unpublish();
            }
        });
        _hide.Add(gauge.Unpublish);
    }

    /// <summary>A counter raised to the total <paramref name="value"/> reports (totals only grow within a process).</summary>
    public void Counter(string name, string help, Func<T, double> value)
    {
        var counter = factory.CreateCounter(name, help, SuppressedCounter);
        _update.Add(s => counter.IncTo(value(s)));
        _hide.Add(counter.Unpublish);
    }

    /// <summary>A gauge with one label whose values come from the snapshot (queues, tiers); stale values are removed.</summary>
    public void LabelledGauge(string name, string help, string label, Func<T, IEnumerable<(string Label, double Value)>> values)
    {
        var gauge = factory.CreateGauge(name, help, [label], Suppressed);
        _update.Add(s =>
        {
            var current = values(s).ToList();
            RemoveAllBut(gauge, current.Select(c => c.Label));
            foreach (var (labelValue, v) in current)
            {
                gauge.WithLabels(labelValue).Set(v);
            }
        });
        _hide.Add(() => RemoveAllBut(gauge, []));
    }

    /// <summary>A counter with one label of fixed values (tiers).</summary>
    public void LabelledCounter(string name, string help, string label, Func<T, IEnumerable<(string Label, double Value)>> values)
    {
        var counter = factory.CreateCounter(name, help, [label], SuppressedCounter);
        _update.Add(s =>
        {
            foreach (var (labelValue, v) in values(s))
            {
                counter.WithLabels(labelValue).IncTo(v);
            }
        });
        _hide.Add(() =>
        {
            foreach (var labels in counter.GetAllLabelValues())
            {
                counter.WithLabels(labels).Unpublish();
            }
        });
    }

    /// <summary>Anything else a snapshot drives (info series, histograms): its update and its hide action.</summary>
    public void Custom(Action<T> update, Action hide)
    {
        _update.Add(update);
        _hide.Add(hide);
    }

    /// <summary>Takes one snapshot and updates every series from it (or hides them all). Exceptions propagate.</summary>
    public void Refresh()
    {
        T? snapshot;
        try
        {
            snapshot = Source.Get();
        }
        catch
        {
            Hide();
            throw;
        }

        if (snapshot is null)
        {
            Hide();
            return;
        }

        foreach (var update in _update)
        {
            update(snapshot);
        }
    }

    public void Hide()
    {
        foreach (var hide in _hide)
        {
            hide();
        }
    }

    private static void RemoveAllBut(Gauge gauge, IEnumerable<string> keep)
    {
        var kept = keep.ToHashSet(StringComparer.Ordinal);
        foreach (var labels in gauge.GetAllLabelValues().Where(l => !kept.Contains(l[0])).ToList())
        {
            gauge.RemoveLabelled(labels);
        }
    }
}
