namespace S3Block.Ublk.Metrics;

/// <summary>
/// Metric and label names as the Prometheus data model allows them (<c>[a-zA-Z_][a-zA-Z0-9_]*</c>).
/// </summary>
/// <remarks>
/// Our convention is that an instrument is <em>named exactly as the exported metric</em>
/// (<c>s3block_io_requests_total</c>, unit suffix and <c>_total</c> included): nothing is appended or translated, so
/// a name in code is the name in PromQL. Sanitizing only repairs foreign names (e.g. <c>System.Net.dns</c> becomes
/// <c>System_Net_dns</c>). The colon, legal in Prometheus, is reserved for recording rules and replaced too
/// (prometheus-net does the same since v8).
/// </remarks>
public static class PrometheusNames
{
    /// <summary>Replaces every character outside <c>[a-zA-Z0-9_]</c> with <c>_</c> and prefixes a leading digit.</summary>
    public static string SanitizeMetricName(string name) => Sanitize(name);

    /// <summary>
    /// Like <see cref="SanitizeMetricName"/>; additionally, names starting with <c>__</c> (reserved for Prometheus)
    /// lose the extra underscores.
    /// </summary>
    public static string SanitizeLabelName(string name)
    {
        var sanitized = Sanitize(name);
        return sanitized.StartsWith("__", StringComparison.Ordinal) ? "_" + sanitized.TrimStart('_') : sanitized;
    }

    /// <summary>True when <paramref name="name"/> is already a valid metric name under our convention.</summary>
    public static bool IsValidMetricName(string name) => name.Length > 0 && Sanitize(name) == name;

    private static string Sanitize(string name)
    {
        if (name.Length == 0)
        {
            return "_";
        }

        var valid = !char.IsAsciiDigit(name[0]);
        foreach (var c in name)
        {
            valid &= IsNameChar(c);
        }

        if (valid)
        {
            return name;
        }

        var chars = new char[name.Length];
        for (var i = 0; i < name.Length; i++)
        {
            chars[i] = IsNameChar(name[i]) ? name[i] : '_';
        }

        var result = new string(chars);
        return char.IsAsciiDigit(result[0]) ? "_" + result : result;
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
