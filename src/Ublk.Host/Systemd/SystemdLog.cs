using Microsoft.Extensions.Logging;

namespace S3Block.Ublk.Systemd;

/// <summary>Log messages of the systemd integration, with stable event ids (3001..).</summary>
internal static partial class SystemdLog
{
    [LoggerMessage(3001, LogLevel.Warning, "sd_notify failed; systemd notifications (STATUS, WATCHDOG, EXTEND_TIMEOUT_USEC) are lost until it works again. This is logged once; the count is in SystemdNotifications.FailureCount", EventName = "NotifyFailed")]
    public static partial void NotifyFailed(ILogger logger, Exception exception);

    [LoggerMessage(3003, LogLevel.Information, "systemd watchdog: timeout {Interval}, pinging every {Period} while the progress probes report progress", EventName = "WatchdogEnabled")]
    public static partial void WatchdogEnabled(ILogger logger, TimeSpan interval, TimeSpan period);

    [LoggerMessage(3004, LogLevel.Debug, "systemd watchdog is off (WATCHDOG_USEC unset, or meant for another process)", EventName = "WatchdogDisabled")]
    public static partial void WatchdogDisabled(ILogger logger);

    [LoggerMessage(3005, LogLevel.Warning, "systemd watchdog ping skipped: stuck: {Stuck}. systemd restarts the service if this lasts the watchdog timeout", EventName = "WatchdogPingSkipped")]
    public static partial void WatchdogPingSkipped(ILogger logger, string stuck);

    [LoggerMessage(3006, LogLevel.Information, "systemd watchdog pings resumed: every progress probe reports progress again", EventName = "WatchdogPingsResumed")]
    public static partial void WatchdogPingsResumed(ILogger logger);

    [LoggerMessage(3007, LogLevel.Warning, "stop-timeout extension skipped: stuck: {Stuck}. systemd stops the service when the last extension runs out", EventName = "ExtendTimeoutSkipped")]
    public static partial void ExtendTimeoutSkipped(ILogger logger, string stuck);

    [LoggerMessage(3008, LogLevel.Warning, "the STATUS text for the stop-timeout heartbeat failed; sending the extension without it", EventName = "StatusTextFailed")]
    public static partial void StatusTextFailed(ILogger logger, Exception exception);
}
