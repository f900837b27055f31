using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace S3Block.Ublk.Systemd;

/// <summary>
/// Sends sd_notify(3) messages: one datagram of newline-separated <c>KEY=VALUE</c> lines to the unix socket named by
/// <c>NOTIFY_SOCKET</c> (a leading <c>@</c> names an abstract socket). Without that variable every call is a no-op that
/// returns false, so the daemon calls it unconditionally. It never throws into callers: a failed send returns false,
/// is counted, and only the first failure is logged (a broken socket must not flood the log or stop the I/O path).
/// Thread-safe.
/// </summary>
internal sealed partial class SystemdNotifier : IDisposable
{
    // A full receive queue blocks a unix datagram send; bound the wait instead of hanging a watchdog or flush thread.
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(2);

    private readonly ILogger _logger;
    private readonly UnixDomainSocketEndPoint? _endpoint;
    private readonly Lock _gate = new();
    private Socket? _socket;
    private bool _disposed;
    private int _failureLogged;
    private long _failures;
    private long _sent;

    /// <param name="notifySocket">The <c>NOTIFY_SOCKET</c> value; null or empty disables the notifier.</param>
    /// <param name="logger">Where the first failure goes.</param>
    public SystemdNotifier(string? notifySocket, ILogger<SystemdNotifier>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        SocketAddress = string.IsNullOrEmpty(notifySocket) ? null : notifySocket;
        if (SocketAddress is not null)
        {
            _endpoint = ToEndPoint(SocketAddress);
        }
    }

    /// <summary>True when <c>NOTIFY_SOCKET</c> named a usable address, i.e. messages are actually sent.</summary>
    public bool IsEnabled => _endpoint is not null;

    /// <summary>The <c>NOTIFY_SOCKET</c> value as given, or null.</summary>
    public string? SocketAddress { get; }

    /// <summary>Messages sent successfully.</summary>
    public long SentCount => Interlocked.Read(ref _sent);

    /// <summary>Messages that could not be sent (each returned false).</summary>
    public long FailureCount => Interlocked.Read(ref _failures);

    /// <summary><c>READY=1</c>: start-up is complete. Call it once the ublk device is serving, not before: systemd then
    /// starts the units ordered after us (the mounts) and arms the watchdog.</summary>
    public bool Ready(string? status = null) => Notify(WithStatus("READY=1", status));

    /// <summary><c>STOPPING=1</c>: shutdown has begun.</summary>
    public bool Stopping(string? status = null) => Notify(WithStatus("STOPPING=1", status));

    /// <summary><c>STATUS=…</c>: one line shown by <c>systemctl status</c>, e.g. "serving /dev/ublkb0".</summary>
    public bool Status(string status) => Notify(StatusLine(status));

    /// <summary><c>WATCHDOG=1</c>: keep-alive ping. Normally sent by <see cref="SystemdWatchdogService"/>, which
    /// checks the progress probes first.</summary>
    public bool Watchdog() => Notify("WATCHDOG=1");

    /// <summary>
    /// <c>EXTEND_TIMEOUT_USEC=…</c>: while starting or stopping, asks systemd to allow <paramref name="extension"/> more
    /// from now (it never shortens the configured timeout). See <see cref="ExtendTimeoutWhileAsync"/> for the heartbeat.
    /// </summary>
    public bool ExtendTimeout(TimeSpan extension, string? status = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(extension, TimeSpan.Zero);
        long usec = extension.Ticks / TimeSpan.TicksPerMicrosecond;
        return Notify(WithStatus(string.Create(CultureInfo.InvariantCulture, $"EXTEND_TIMEOUT_USEC={usec}"), status));
    }

    /// <summary><c>MAINPID=…</c>: tells systemd which process is the service's main process.</summary>
    public bool MainPid(int pid)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pid, 0);
        return Notify(string.Create(CultureInfo.InvariantCulture, $"MAINPID={pid}"));
    }

    /// <summary>Sends <paramref name="state"/> as one datagram (several assignments separated by '\n').
    /// Returns true when it was sent, false when disabled, disposed or the send failed.</summary>
    public bool Notify(string state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (_endpoint is null)
        {
            return false;
        }

        byte[] datagram = Encoding.UTF8.GetBytes(state);
        try
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return false;
                }

                _socket ??= CreateSocket();
                _socket.SendTo(datagram, SocketFlags.None, _endpoint);
            }

            Interlocked.Increment(ref _sent);
            return true;
        }
        catch (Exception exception) when (exception is SocketException or IOException)
        {
            RecordFailure(exception);
            return false;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _socket?.Dispose();
            _socket = null;
        }
    }

    /// <summary><c>STATUS=</c> plus the text on one line: a newline would start a new assignment (e.g. a stray
    /// <c>READY=1</c> hidden in an error message).</summary>
    internal static string StatusLine(string status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return "STATUS=" + status.ReplaceLineEndings(" ");
    }

    private static string WithStatus(string assignment, string? status) =>
        status is null ? assignment : assignment + "\n" + StatusLine(status);

    private UnixDomainSocketEndPoint? ToEndPoint(string address)
    {
        // sd_notify accepts an absolute path or '@' for the abstract namespace (which .NET spells with a leading NUL).
        string? path = address[0] switch
        {
            '/' => address,
            '@' when address.Length > 1 => "\0" + address[1..],
            _ => null,
        };
        if (path is null)
        {
            SystemdLog.NotifySocketInvalid(_logger, address, "not an absolute path or @abstract name");
            return null;
        }

        try
        {
            return new UnixDomainSocketEndPoint(path);
        }
        catch (ArgumentException exception) // e.g. longer than sun_path
        {
            SystemdLog.NotifySocketInvalid(_logger, address, exception.Message);
            return null;
        }
    }

    private static Socket CreateSocket()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.SendTimeout = (int)SendTimeout.TotalMilliseconds;
        return socket;
    }

    private void RecordFailure(Exception exception)
    {
        Interlocked.Increment(ref _failures);
        lock (_gate)
        {
            // A fresh socket next time, in case this one is wedged.
            _socket?.Dispose();
            _socket = null;
        }

        if (Interlocked.Exchange(ref _failureLogged, 1) == 0)
        {
            SystemdLog.NotifyFailed(_logger, exception, SocketAddress ?? "");
        }
    }
}
