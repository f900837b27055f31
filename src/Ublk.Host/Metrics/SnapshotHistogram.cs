using Prometheus;

namespace S3Block.Ublk.Metrics;

/// <summary>
/// A prometheus-net histogram fed from a component's own bucket counts (the journal keeps its fdatasync latencies):
/// each scrape observes the growth since the previous one, placing each new bucket count inside its bucket at values
/// chosen so that the histogram's <c>_sum</c> grows by exactly the snapshot's sum growth. Counts and sum then match the
/// component's; only where inside a bucket a single sample fell is invented, which Prometheus never sees.
/// </summary>
internal sealed class SnapshotHistogram(IMetricFactory factory, string name, string help)
{
    private Histogram? _histogram;
    private long[] _last = [];
    private double _lastSum;

    /// <summary>Observes the growth from the previous totals to these (<paramref name="buckets"/>: one count per bound
    /// plus one above the last, not cumulative). A total that shrank (the component restarted) starts over.</summary>
    public void Update(IReadOnlyList<double> bounds, IReadOnlyList<long> buckets, double sum)
    {
        if (bounds.Count == 0 || buckets.Count != bounds.Count + 1)
        {
            return;
        }

        _histogram ??= factory.CreateHistogram(name, help, new HistogramConfiguration { Buckets = [.. bounds] });
        _histogram.Publish();
        if (_last.Length != buckets.Count)
        {
            _last = new long[buckets.Count];
        }

        var deltas = new long[buckets.Count];
        for (var i = 0; i < buckets.Count; i++)
        {
            deltas[i] = buckets[i] - _last[i];
            if (deltas[i] < 0)
            {
                _last = [.. buckets];
                _lastSum = sum;
                return;
            }
        }

        var values = Spread(bounds, deltas, sum - _lastSum);
        for (var i = 0; i < deltas.Length; i++)
        {
            if (deltas[i] > 0)
            {
                _histogram.Observe(values[i], deltas[i]);
            }
        }

        _last = [.. buckets];
        _lastSum = sum;
    }

    public void Hide() => _histogram?.Unpublish();

    /// <summary>One value per bucket, inside it (above the lower bound, at most the upper), with Σ count·value = sum
    /// whenever the sum is consistent with the counts.</summary>
    internal static double[] Spread(IReadOnlyList<double> bounds, long[] counts, double sum)
    {
        var n = bounds.Count;
        var values = new double[n + 1];
        double Lower(int i) => i == 0 ? 0 : bounds[i - 1];
        if (counts[n] > 0)
        {
            // Samples above the last bound take whatever the finite buckets (at their upper bounds) leave.
            var finite = 0.0;
            for (var i = 0; i < n; i++)
            {
                values[i] = bounds[i];
                finite += counts[i] * bounds[i];
            }

            values[n] = Math.Max(Math.BitIncrement(bounds[n - 1]), (sum - finite) / counts[n]);
            return values;
        }

        double low = 0, high = 0;
        for (var i = 0; i < n; i++)
        {
            low += counts[i] * Lower(i);
            high += counts[i] * bounds[i];
        }

        var t = high > low ? Math.Clamp((sum - low) / (high - low), 0, 1) : 1;
        for (var i = 0; i < n; i++)
        {
            var v = Lower(i) + (t * (bounds[i] - Lower(i)));
            values[i] = i > 0 && v <= Lower(i) ? Math.BitIncrement(Lower(i)) : Math.Min(v, bounds[i]);
        }

        values[n] = Math.BitIncrement(bounds[n - 1]);
        return values;
    }
}
