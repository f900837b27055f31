using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using S3Block.Ublk.Systemd;

namespace S3Block.Ublk.Tests.Systemd;

/// <summary>
/// Plays systemd's side of sd_notify: a bound unix datagram socket whose address goes into NOTIFY_SOCKET, either a path
/// in a temporary folder or an abstract name (<c>@…</c>). Receives whole datagrams as UTF-8 text.
/// </summary>
internal sealed class NotifySocketListener : IDisposable
{
    private readonly Socket _socket;
    private readonly string? _folder;

    private NotifySocketListener(Socket socket, string address, string? folder)
    {
        _socket = socket;
        Address = address;
        _folder = folder;
    }

    /// <summary>The NOTIFY_SOCKET value that reaches this listener.</summary>
    public string Address { get; }

    /// <summary>A socket file in a fresh temporary folder.</summary>
    public static NotifySocketListener BindPath()
    {
        string folder = Directory.CreateTempSubdirectory("s3block-notify-").FullName;
        string path = Path.Combine(folder, "notify.sock");
        return Bind(path, new UnixDomainSocketEndPoint(path), folder);
    }

    /// <summary>A socket in the abstract namespace (no file), addressed as "@name" like systemd does.</summary>
    public static NotifySocketListener BindAbstract() => BindAbstractAt($"@s3block-test-{Guid.NewGuid():N}");

    /// <summary>An abstract socket at a given "@name" address (e.g. one a previous listener released).</summary>
    public static NotifySocketListener BindAbstractAt(string address) =>
        Bind(address, new UnixDomainSocketEndPoint("\0" + address[1..]), null);

    /// <summary>Microsoft.Extensions.Hosting.Systemd's own notifier, sending to this listener.</summary>
    public ISystemdNotifier CreateNotifier() => PackageNotifier(Address);

    /// <summary>Our notifications over the package's notifier, sending to this listener.</summary>
    public SystemdNotifications CreateNotifications(ILogger<SystemdNotifications>? logger = null) => new(CreateNotifier(), logger);

    /// <summary>
    /// The package's <see cref="SystemdNotifier"/> for a NOTIFY_SOCKET value. Its public constructor reads the process
    /// environment, which parallel tests share; the internal one takes the address (abstract names with a leading NUL,
    /// as the public one converts "@…"), so tests reach it by reflection. Null: a disabled notifier.
    /// </summary>
    public static ISystemdNotifier PackageNotifier(string? address)
    {
        var constructor = typeof(SystemdNotifier).GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic, [typeof(string)])
            ?? throw new InvalidOperationException("Microsoft.Extensions.Hosting.Systemd's SystemdNotifier(string) constructor is gone");
        var path = address is ['@', .. var name] ? "\0" + name : address;
        return (ISystemdNotifier)constructor.Invoke([path]);
    }

    /// <summary>The next datagram, or null if none arrives within <paramref name="timeout"/>.</summary>
    public async Task<string?> ReceiveAsync(TimeSpan timeout)
    {
        byte[] buffer = new byte[4096];
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            int length = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>The next datagram; fails the test if none arrives within 5 s.</summary>
    public async Task<string> ExpectAsync()
    {
        string? message = await ReceiveAsync(TimeSpan.FromSeconds(5));
        Assert.True(message is not null, $"no sd_notify datagram arrived at {Address} within 5 s");
        return message;
    }

    /// <summary>Every datagram already queued.</summary>
    public List<string> Drain()
    {
        var messages = new List<string>();
        byte[] buffer = new byte[4096];
        while (_socket.Available > 0)
        {
            int length = _socket.Receive(buffer);
            messages.Add(Encoding.UTF8.GetString(buffer, 0, length));
        }

        return messages;
    }

    public void Dispose()
    {
        _socket.Dispose();
        if (_folder is not null)
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static NotifySocketListener Bind(string address, UnixDomainSocketEndPoint endpoint, string? folder)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(endpoint);
        return new NotifySocketListener(socket, address, folder);
    }
}
