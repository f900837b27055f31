using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace S3Block.Ublk.Systemd;

/// <summary>
/// The sd_notify messages the daemon sends itself (<c>STATUS=</c>, <c>WATCHDOG=1</c>, <c>EXTEND_TIMEOUT_USEC=</c>), through
/// Microsoft.Extensions.Hosting.Systemd's <see cref="ISystemdNotifier"/>; <c>READY=1</c> and <c>STOPPING=1</c> are the
/// package's <c>SystemdLifetime</c>'s. Outside systemd the notifier is disabled and every call returns false. It never
/// throws into callers: a failed send returns false, is counted, and only the first failure is logged (a broken socket
/// must not flood the log or stop a flush). Thread-safe.
/// </summary>
internal sealed partial class SystemdNotifications(ISystemdNotifier notifier, ILogger<SystemdNotifications>? logger = null)
{
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;
    private int _failureLogged;
    private long _failures;
    private long _sent;

    /// <summary>True when messages are actually sent (<c>NOTIFY_SOCKET</c> is set).</summary>
    public bool IsEnabled => notifier.IsEnabled;

    /// <summary>Messages sent successfully.</summary>
    public long SentCount => Interlocked.Read(ref _sent);

    /// <summary>Messages that could not be sent (each returned false).</summary>
    public long FailureCount => Interlocked.Read(ref _failures);

    /// <summary><c>STATUS=…</c>: one line shown by <c>systemctl status</c>, e.g. "serving /dev/ublkb0".</summary>
    public bool Status(string status) => Notify(StatusLine(status));

    /// <summary><c>WATCHDOG=1</c>: keep-alive ping. Sent by <see cref="SystemdWatchdogService"/>, which checks the
    /// progress probes first.</summary>
    public bool Watchdog() => Notify("WATCHDOG=1");

    /// <summary>
    /// <c>EXTEND_TIMEOUT_USEC=…</c>: while starting or stopping, asks systemd to allow <paramref name="extension"/> more
    /// from now (it never shortens the configured timeout). See <see cref="ExtendTimeoutWhileAsync"/> for the heartbeat.
    /// </summary>
    public bool ExtendTimeout(TimeSpan extension, string? status = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(extension, TimeSpan.Zero);
        long usec = extension.Ticks / TimeSpan.TicksPerMicrosecond;
        var assignment = string.Create(CultureInfo.InvariantCulture, $"EXTEND_TIMEOUT_USEC={usec}");
        return Notify(status is null ? assignment : assignment + "\n" + StatusLine(status));
    }

    /// <summary>Sends <paramref name="state"/> (assignments separated by '\n'). True when sent; false when disabled or
    /// the send failed.</summary>
    public bool Notify(string state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!notifier.IsEnabled)
        {
            return false;
        }

        try
        {
            notifier.Notify(new ServiceState(state));
            Interlocked.Increment(ref _sent);
            return true;
        }
        catch (Exception exception) when (exception is SocketException or IOException or ArgumentException)
        {
            Interlocked.Increment(ref _failures);
            if (Interlocked.Exchange(ref _failureLogged, 1) == 0)
            {
                SystemdLog.NotifyFailed(_logger, exception);
            }

            return false;
        }
    }

    /// <summary><c>STATUS=</c> plus the text on one line: a newline would start a new assignment (e.g. a stray
    /// <c>READY=1</c> hidden in an error message).</summary>
    internal static string StatusLine(string status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return "STATUS=" + status.ReplaceLineEndings(" ");
    }
}
