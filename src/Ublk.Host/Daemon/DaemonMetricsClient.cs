using System.Globalization;
using S3Block.Ublk.Metrics;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// Reads a running daemon's live numbers from its own <c>/metrics</c> endpoint (loopback), so <c>status</c> and
/// <c>flush</c> need no second control channel.
/// </summary>
internal sealed class DaemonMetricsClient(MetricsOptions options) : IDisposable
{
    // A daemon that is not running refuses the connection at once; the timeout only bounds a slow answer. The first
    // scrape of a fresh daemon JITs the endpoint: 6 s under qemu's software emulation, so 5 s was too short.
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public Uri Endpoint { get; } = new($"http://{(options.Address.Contains(':', StringComparison.Ordinal) ? $"[{options.Address}]" : options.Address)}:{options.Port}/metrics");

    /// <summary>Unlabelled sample values by metric name, or null when no daemon answers.</summary>
    public async Task<IReadOnlyDictionary<string, double>?> ScrapeAsync(CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await _http.GetStringAsync(Endpoint, cancellationToken);
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (line.Length == 0 || line[0] == '#' || space <= 0 || line.AsSpan(0, space).Contains('{'))
            {
                continue;
            }

            if (double.TryParse(line.AsSpan(space + 1).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                values[line[..space]] = value;
            }
        }

        return values;
    }

    public void Dispose() => _http.Dispose();
}
