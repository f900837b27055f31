using System.Globalization;
using System.Text;

namespace S3Block.Ublk.Metrics;

/// <summary>
/// Writes metric families in the Prometheus text exposition format, version 0.0.4
/// (prometheus.io/docs/instrumenting/exposition_formats).
/// </summary>
public static class PrometheusTextFormatter
{
    /// <summary>The Content-Type of a scrape response in this format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Formats <paramref name="families"/> into a string (each family's lines end with <c>\n</c>).</summary>
    public static string Format(IEnumerable<MetricFamily> families)
    {
        var text = new StringBuilder(4096);
        foreach (var family in families)
        {
            Append(text, family);
        }

        return text.ToString();
    }

    /// <summary>Appends one family: <c># HELP</c>, <c># TYPE</c>, then its samples.</summary>
    public static void Append(StringBuilder text, MetricFamily family)
    {
        var name = PrometheusNames.SanitizeMetricName(family.Name);
        if (family.Help.Length > 0)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(family.Help)).Append('\n');
        }

        text.Append("# TYPE ").Append(name).Append(' ').Append(TypeName(family.Type)).Append('\n');
        foreach (var point in family.Points)
        {
            switch (point)
            {
                case HistogramPoint histogram:
                    AppendHistogram(text, name, histogram);
                    break;
                case ValuePoint value:
                    AppendSample(text, name, "", value.Labels, null, value.Value, inHistogram: false);
                    break;
            }
        }
    }

    /// <summary>Escapes a label value: backslash, double quote and line feed.</summary>
    public static string EscapeLabelValue(string value) =>
        value.AsSpan().IndexOfAny('\\', '"', '\n') < 0
            ? value
            : value.Replace("\\", @"\\", StringComparison.Ordinal)
                .Replace("\"", "\\\"", StringComparison.Ordinal)
                .Replace("\n", @"\n", StringComparison.Ordinal);

    /// <summary>Escapes help text: backslash and line feed.</summary>
    public static string EscapeHelp(string help) =>
        help.Replace("\\", @"\\", StringComparison.Ordinal)
            .Replace("\r\n", @"\n", StringComparison.Ordinal)
            .Replace("\n", @"\n", StringComparison.Ordinal);

    /// <summary>A sample value or bucket bound as Prometheus parses it: <c>+Inf</c>, <c>-Inf</c>, <c>NaN</c>, or the
    /// shortest round-trip decimal.</summary>
    public static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static string TypeName(MetricType type) => type switch
    {
        MetricType.Counter => "counter",
        MetricType.Gauge => "gauge",
        MetricType.Histogram => "histogram",
        _ => "untyped",
    };

    private static void AppendHistogram(StringBuilder text, string name, HistogramPoint point)
    {
        // Buckets are cumulative in the exposition format: each le counts everything at or below it.
        long cumulative = 0;
        for (var i = 0; i < point.UpperBounds.Count; i++)
        {
            cumulative += i < point.BucketCounts.Count ? point.BucketCounts[i] : 0;
            AppendSample(text, name, "_bucket", point.Labels, FormatValue(point.UpperBounds[i]), cumulative, inHistogram: true);
        }

        for (var i = point.UpperBounds.Count; i < point.BucketCounts.Count; i++)
        {
            cumulative += point.BucketCounts[i];
        }

        AppendSample(text, name, "_bucket", point.Labels, "+Inf", cumulative, inHistogram: true);
        AppendSample(text, name, "_sum", point.Labels, null, point.Sum, inHistogram: true);
        AppendSample(text, name, "_count", point.Labels, null, cumulative, inHistogram: true);
    }

    private static void AppendSample(
        StringBuilder text, string name, string suffix, IReadOnlyList<KeyValuePair<string, string>> labels, string? le, double value, bool inHistogram)
    {
        text.Append(name).Append(suffix);
        if (labels.Count > 0 || le is not null)
        {
            text.Append('{');
            var first = true;
            foreach (var (labelName, labelValue) in labels)
            {
                var sanitized = PrometheusNames.SanitizeLabelName(labelName);
                if (inHistogram && sanitized == "le")
                {
                    // A tag called "le" would collide with the bucket bound; keep it under another name (on every
                    // line of the histogram, so that _bucket, _sum and _count series still belong together).
                    sanitized = "exported_le";
                }

                text.Append(first ? "" : ",").Append(sanitized).Append("=\"").Append(EscapeLabelValue(labelValue)).Append('"');
                first = false;
            }

            if (le is not null)
            {
                text.Append(first ? "" : ",").Append("le=\"").Append(le).Append('"');
            }

            text.Append('}');
        }

        text.Append(' ').Append(FormatValue(value)).Append('\n');
    }
}
