using System.Globalization;

namespace S3Block.Ublk.Metrics;

/// <summary>Parsers for the few <c>/proc/self</c> files the process metrics read (pure functions, for tests).</summary>
internal static class ProcFs
{
    /// <summary>
    /// <c>/proc/self/statm</c>: sizes in pages, "size resident shared text lib data dt". Returns (virtual, resident)
    /// pages, or null when the text does not parse.
    /// </summary>
    public static (long VirtualPages, long ResidentPages)? ParseStatm(string text)
    {
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 2
            && long.TryParse(fields[0], CultureInfo.InvariantCulture, out var size)
            && long.TryParse(fields[1], CultureInfo.InvariantCulture, out var resident)
            ? (size, resident)
            : null;
    }

    /// <summary>
    /// <c>/proc/self/stat</c> field 20, <c>num_threads</c>. The command name (field 2) is in parentheses and may hold
    /// spaces and parentheses itself, so fields are counted from the last <c>)</c>.
    /// </summary>
    public static long? ParseThreadCount(string text)
    {
        var end = text.LastIndexOf(')');
        if (end < 0)
        {
            return null;
        }

        // After ") " come fields 3 (state), 4, ...; num_threads is field 20, i.e. index 17 here.
        var fields = text[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 17 && long.TryParse(fields[17], CultureInfo.InvariantCulture, out var threads) ? threads : null;
    }

    /// <summary>The soft limit in the "Max open files" line of <c>/proc/self/limits</c>; null if unlimited or absent.</summary>
    public static long? ParseMaxOpenFiles(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                continue;
            }

            var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 0 && long.TryParse(fields[0], CultureInfo.InvariantCulture, out var soft) ? soft : null;
        }

        return null;
    }

    /// <summary>Reads a /proc file, or null when it is missing or unreadable (not Linux, restricted /proc).</summary>
    public static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Entries in <c>/proc/self/fd</c> (open file descriptors, including the one listing it), or null.</summary>
    public static long? CountOpenFds()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
