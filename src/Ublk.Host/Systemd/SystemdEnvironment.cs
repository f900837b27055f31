using System.Globalization;

namespace S3Block.Ublk.Systemd;

/// <summary>
/// What systemd tells a service through its environment: where to send sd_notify datagrams (<c>NOTIFY_SOCKET</c>),
/// the watchdog interval (<c>WATCHDOG_USEC</c>, <c>WATCHDOG_PID</c>) and whether we run as a unit at all
/// (<c>INVOCATION_ID</c>). Read once at start-up; tests build one from a dictionary instead of the process.
/// </summary>
/// <param name="NotifySocket">The <c>NOTIFY_SOCKET</c> value (an absolute path, or <c>@name</c> for an abstract
/// socket); null when unset or empty.</param>
/// <param name="WatchdogInterval">The watchdog timeout systemd enforces, or null when the watchdog is off for us.</param>
/// <param name="InvocationId">The <c>INVOCATION_ID</c> systemd sets for every unit it starts; null otherwise.</param>
internal sealed record SystemdEnvironment(string? NotifySocket, TimeSpan? WatchdogInterval, string? InvocationId)
{
    /// <summary>Nothing from systemd: notifications are no-ops, no watchdog, plain console logging.</summary>
    public static SystemdEnvironment None { get; } = new(null, null, null);

    /// <summary>True when systemd started us (a unit's environment), so logs go to the journal through stdout.</summary>
    public bool IsUnderSystemd => NotifySocket is not null || InvocationId is not null;

    /// <summary>How often to send <c>WATCHDOG=1</c>: half the interval, as sd_watchdog_enabled(3) recommends.</summary>
    public TimeSpan? WatchdogPingPeriod => WatchdogInterval / 2;

    /// <summary>The environment of this process.</summary>
    public static SystemdEnvironment FromProcess() => Read(Environment.GetEnvironmentVariable, Environment.ProcessId);

    /// <summary>
    /// Parses the variables. The watchdog is ours only when <c>WATCHDOG_USEC</c> is a positive number and
    /// <c>WATCHDOG_PID</c> is unset or equals <paramref name="processId"/> (a child that inherited the variables must not
    /// ping on the parent's behalf).
    /// </summary>
    public static SystemdEnvironment Read(Func<string, string?> variable, int processId)
    {
        ArgumentNullException.ThrowIfNull(variable);
        return new SystemdEnvironment(
            NonEmpty(variable("NOTIFY_SOCKET")),
            ParseWatchdog(variable("WATCHDOG_USEC"), variable("WATCHDOG_PID"), processId),
            NonEmpty(variable("INVOCATION_ID")));
    }

    private static TimeSpan? ParseWatchdog(string? usecText, string? pidText, int processId)
    {
        if (!ulong.TryParse(usecText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec) || usec == 0)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(pidText)
            && (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid != processId))
        {
            return null;
        }

        // systemd's own limit is far below this; the clamp only keeps a silly value from overflowing TimeSpan.
        const ulong maxUsec = (ulong)(long.MaxValue / TimeSpan.TicksPerMicrosecond);
        return TimeSpan.FromTicks((long)Math.Min(usec, maxUsec) * TimeSpan.TicksPerMicrosecond);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
