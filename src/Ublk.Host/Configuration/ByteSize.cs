using System.Globalization;

namespace S3Block.Ublk.Configuration;

/// <summary>
/// Parses sizes as people write them: <c>4096</c>, <c>64KiB</c>, <c>64MiB</c>, <c>1GiB</c>, <c>2TiB</c> (binary units),
/// and <c>64MB</c>/<c>1GB</c> (decimal units), case-insensitive, optional space before the unit.
/// </summary>
internal static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("KB", 1000L), ("MB", 1000L * 1000), ("GB", 1000L * 1000 * 1000), ("TB", 1000L * 1000 * 1000 * 1000),
        ("K", 1L << 10), ("M", 1L << 20), ("G", 1L << 30), ("T", 1L << 40), ("B", 1L),
    ];

    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var value = text.Trim();
        long factor = 1;
        foreach (var (suffix, unitFactor) in Units)
        {
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                factor = unitFactor;
                value = value[..^suffix.Length].TrimEnd();
                break;
            }
        }

        if (!decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number < 0)
        {
            return false;
        }

        var total = number * factor;
        if (total > long.MaxValue || total != decimal.Truncate(total))
        {
            return false;
        }

        bytes = (long)total;
        return true;
    }

    public static long Parse(string text, string what) =>
        TryParse(text, out var bytes) ? bytes : throw new ConfigurationProblemException($"{what}: '{text}' is not a size (use e.g. 4096, 64MiB or 1GiB)");

    /// <summary>The largest binary unit that divides the size exactly, e.g. 64MiB.</summary>
    public static string Format(long bytes)
    {
        foreach (var (suffix, factor) in new[] { ("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10) })
        {
            if (bytes >= factor && bytes % factor == 0)
            {
                return $"{bytes / factor}{suffix}";
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture);
    }
}
