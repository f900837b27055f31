using System.Globalization;
using Microsoft.Extensions.Hosting.Systemd;

namespace S3Block.Ublk.Systemd;

/// <summary>
/// What systemd tells a service: whether we run as its service at all (Microsoft.Extensions.Hosting.Systemd's
/// <see cref="SystemdHelpers.IsSystemdService"/>: our parent is systemd) and the watchdog interval
/// (<c>WATCHDOG_USEC</c>, <c>WATCHDOG_PID</c>), which the package leaves to us. Read once at start-up; tests build one.
/// </summary>
/// <param name="IsSystemdService">True when systemd started us: <c>SystemdLifetime</c> (READY=1, STOPPING=1) and
/// journald-formatted logs.</param>
/// <param name="WatchdogInterval">The watchdog timeout systemd enforces, or null when the watchdog is off for us.</param>
internal sealed record SystemdEnvironment(bool IsSystemdService, TimeSpan? WatchdogInterval)
{
    /// <summary>Nothing from systemd: no lifetime, no watchdog, plain console logging.</summary>
    public static SystemdEnvironment None { get; } = new(false, null);

    /// <summary>How often to send <c>WATCHDOG=1</c>: half the interval, as sd_watchdog_enabled(3) recommends.</summary>
    public TimeSpan? WatchdogPingPeriod => WatchdogInterval / 2;

    /// <summary>The environment of this process.</summary>
    public static SystemdEnvironment FromProcess() =>
        new(SystemdHelpers.IsSystemdService(), ReadWatchdog(Environment.GetEnvironmentVariable, Environment.ProcessId));

    /// <summary>
    /// The watchdog is ours only when <c>WATCHDOG_USEC</c> is a positive number and <c>WATCHDOG_PID</c> is unset or
    /// equals <paramref name="processId"/> (a child that inherited the variables must not ping on the parent's behalf).
    /// </summary>
    public static TimeSpan? ReadWatchdog(Func<string, string?> variable, int processId)
    {
        ArgumentNullException.ThrowIfNull(variable);
        if (!ulong.TryParse(variable("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec) || usec == 0)
        {
            return null;
        }

        var pidText = variable("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pidText)
            && (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid != processId))
        {
            return null;
        }

        // systemd's own limit is far below this; the clamp only keeps a silly value from overflowing TimeSpan.
        const ulong maxUsec = (ulong)(long.MaxValue / TimeSpan.TicksPerMicrosecond);
        return TimeSpan.FromTicks((long)Math.Min(usec, maxUsec) * TimeSpan.TicksPerMicrosecond);
    }
}
