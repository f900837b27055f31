namespace Ublk.Server.Device;

/// <summary>RLIMIT_MEMLOCK as the kernel reports it in /proc/self/limits, for messages (Tmds.LibC 0.5.0 has no getrlimit).</summary>
public static class MemlockLimit
{
    /// <summary>E.g. "8388608 bytes" or "unlimited"; "unknown" if /proc/self/limits cannot be read.</summary>
    public static string Describe()
    {
        try
        {
            return Parse(File.ReadAllLines("/proc/self/limits")) ?? "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>The soft limit from the "Max locked memory" line of /proc/PID/limits, with its unit.</summary>
    public static string? Parse(IEnumerable<string> limits)
    {
        foreach (string line in limits)
        {
            if (line.StartsWith("Max locked memory", StringComparison.Ordinal))
            {
                string[] fields = line["Max locked memory".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // Soft limit, hard limit, units ("bytes"); "unlimited" has no unit of its own.
                return fields.Length >= 3 && fields[0] != "unlimited" ? $"{fields[0]} {fields[2]}" : fields.Length > 0 ? fields[0] : null;
            }
        }

        return null;
    }
}
