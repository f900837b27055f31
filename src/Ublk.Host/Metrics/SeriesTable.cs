using System.Globalization;

namespace S3Block.Ublk.Metrics;

/// <summary>
/// The series of one instrument, keyed by tag set. Lookups are lock-free and allocation-free (a linear scan: an
/// instrument has a handful of tag combinations); a new tag set is added under a lock, copy-on-write.
/// </summary>
/// <typeparam name="TCell">What a series accumulates (a sum, a last value, histogram buckets).</typeparam>
internal sealed class SeriesTable<TCell>(Func<TCell> createCell)
    where TCell : class
{
    private readonly Lock _addLock = new();
    private volatile Series[] _series = [];

    /// <summary>One tag set: the tags as recorded (for matching) and as labels (for export, sorted by name).</summary>
    public sealed record Series(KeyValuePair<string, object?>[] Tags, KeyValuePair<string, string>[] Labels, TCell Cell);

    /// <summary>The current series (a stable array: later additions do not change it).</summary>
    public IReadOnlyList<Series> Snapshot() => _series;

    /// <summary>The cell for <paramref name="tags"/> (in any order), created on first use.</summary>
    public TCell GetOrAdd(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var found = Find(_series, tags);
        if (found is not null)
        {
            return found;
        }

        lock (_addLock)
        {
            var current = _series;
            found = Find(current, tags);
            if (found is not null)
            {
                return found;
            }

            var tagCopy = tags.ToArray();
            var labels = tagCopy
                .Select(t => new KeyValuePair<string, string>(t.Key, LabelValue(t.Value)))
                .OrderBy(l => l.Key, StringComparer.Ordinal)
                .ToArray();
            var series = new Series(tagCopy, labels, createCell());
            _series = [.. current, series];
            return series.Cell;
        }
    }

    /// <summary>Forgets every series (observable instruments start each collection empty).</summary>
    public void Clear()
    {
        lock (_addLock)
        {
            _series = [];
        }
    }

    /// <summary>How a tag value reads as a label value.</summary>
    internal static string LabelValue(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static TCell? Find(Series[] all, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var series in all)
        {
            if (SameTags(series.Tags, tags))
            {
                return series.Cell;
            }
        }

        return null;
    }

    private static bool SameTags(KeyValuePair<string, object?>[] known, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (known.Length != tags.Length)
        {
            return false;
        }

        foreach (var tag in tags)
        {
            var matched = false;
            foreach (var k in known)
            {
                if (string.Equals(k.Key, tag.Key, StringComparison.Ordinal))
                {
                    matched = Equals(k.Value, tag.Value);
                    break;
                }
            }

            if (!matched)
            {
                return false;
            }
        }

        return true;
    }
}
