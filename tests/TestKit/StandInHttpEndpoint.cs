using System.Net;
using System.Net.Sockets;

namespace S3Block.TestKit;

/// <summary>
/// A tiny HTTP server on 127.0.0.1 that hands every request to a handler: a stand-in for an S3 endpoint or a daemon's
/// <c>/metrics</c> when a test needs to see (or script) what goes over the wire.
/// </summary>
public sealed class StandInHttpEndpoint : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _serving;

    /// <param name="port">The port to listen on (e.g. from <see cref="FreePort"/>).</param>
    /// <param name="handle">Answers one request; the endpoint closes the response afterwards.</param>
    public StandInHttpEndpoint(int port, Func<HttpListenerContext, Task> handle)
    {
        Port = port;
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _serving = Task.Run(() => ServeAsync(handle));
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>A loopback TCP port that nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
    }

    private async Task ServeAsync(Func<HttpListenerContext, Task> handle)
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            await handle(context);
            context.Response.Close();
        }
    }
}
