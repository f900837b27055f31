using System.Net;

namespace S3Block.Ublk.Metrics;

/// <summary>Where the Prometheus endpoint listens. Bound from the <c>Metrics</c> configuration section.</summary>
public sealed class MetricsOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Metrics";

    /// <summary>Whether to serve <c>/metrics</c> at all. Default: true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The IP address to listen on. Default: <c>127.0.0.1</c>, so metrics stay on the machine unless an operator
    /// chooses a management interface's address, or <c>0.0.0.0</c> / <c>::</c> for all interfaces. Literal addresses
    /// only (no host names).
    /// </summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The TCP port. Default: 9464 (the OpenTelemetry Prometheus exporter's port). 0 picks a free port
    /// (see <see cref="MetricsServer.Port"/>).</summary>
    public int Port { get; set; } = 9464;

    /// <summary>The problems with these options, each naming its key under <paramref name="section"/>
    /// (e.g. <c>Metrics:Port: 70000 is outside 0..65535</c>).</summary>
    public IEnumerable<string> Validate(string section = Section)
    {
        if (!IPAddress.TryParse(Address, out _))
        {
            yield return $"{section}:Address: '{Address}' is not an IP address (e.g. 127.0.0.1, ::1, 0.0.0.0)";
        }

        if (Port is < 0 or > 65535)
        {
            yield return $"{section}:Port: {Port} is outside 0..65535 (0 picks a free port)";
        }
    }
}
