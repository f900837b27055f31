using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using S3Block.Ublk.Metrics;

namespace S3Block.Ublk.Tests.Metrics;

/// <summary>
/// A real Prometheus server (Debian's <c>prometheus</c> binary) scraping a <see cref="MetricsServer"/> serving
/// <see cref="SampleMetrics"/> every second, all on 127.0.0.1, with its storage in a temporary folder. Shared by the
/// tests of one class; stopped (killed) and deleted afterwards.
/// </summary>
public sealed class PrometheusServer : IAsyncLifetime
{
    public const string Job = "s3block";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly StringBuilder _log = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private string _folder = "";
    private Process? _process;

    public SampleMetrics Sample { get; } = new();

    public MetricsServer Endpoint { get; private set; } = null!;

    /// <summary>The scrape target as Prometheus labels it (<c>instance</c>).</summary>
    public string Instance => $"127.0.0.1:{Endpoint.Port}";

    public Uri BaseAddress { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var prometheus = MetricsTools.Require("prometheus");
        Endpoint = new MetricsServer(new MetricsOptions { Port = 0 }, Sample.Metrics);
        await Endpoint.StartAsync(CancellationToken.None);

        _folder = Directory.CreateTempSubdirectory("s3block-prometheus-").FullName;
        var config = Path.Combine(_folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: {Job}
                static_configs:
                  - targets: ['{Instance}']
            """);

        var webPort = FreeLoopbackPort();
        BaseAddress = new Uri($"http://127.0.0.1:{webPort}/");
        var start = new ProcessStartInfo(prometheus)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _folder,
        };
        foreach (var argument in (string[])[
                     $"--config.file={config}",
                     $"--storage.tsdb.path={Path.Combine(_folder, "data")}",
                     $"--web.listen-address=127.0.0.1:{webPort}",
                     "--log.level=warn",
                 ])
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => Log(e.Data);
        _process.ErrorDataReceived += (_, e) => Log(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        await WaitUntilAsync("Prometheus ready", async () =>
        {
            using var response = await _http.GetAsync(new Uri(BaseAddress, "-/ready"));
            return response.StatusCode == HttpStatusCode.OK;
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(Timeout);
            await _process.WaitForExitAsync(timeout.Token);
            _process.Dispose();
        }

        await Endpoint.DisposeAsync();
        Sample.Dispose();
        _http.Dispose();
        if (_folder.Length > 0)
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    /// <summary>An instant query through the HTTP API; fails the test unless Prometheus answers "success".</summary>
    public async Task<IReadOnlyList<(Dictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        var url = new Uri(BaseAddress, $"api/v1/query?query={Uri.EscapeDataString(promql)}");
        using var response = await _http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        Assert.True(json.RootElement.GetProperty("status").GetString() == "success", $"query {promql}: {body}");
        var data = json.RootElement.GetProperty("data");
        if (data.GetProperty("resultType").GetString() == "scalar")
        {
            return [([], ParseValue(data.GetProperty("result")))];
        }

        return [.. data.GetProperty("result").EnumerateArray().Select(series => (
            series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
            ParseValue(series.GetProperty("value"))))];
    }

    /// <summary>Polls until <paramref name="condition"/> holds, failing after 60 s with Prometheus' log.</summary>
    public async Task WaitUntilAsync(string what, Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process is { HasExited: true })
            {
                Assert.Fail($"prometheus exited ({_process.ExitCode}) before: {what}\n{Log(null)}");
            }

            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            Assert.True(clock.Elapsed < Timeout, $"timed out after {Timeout.TotalSeconds} s waiting for: {what}\nprometheus log:\n{Log(null)}");
            await Task.Delay(200);
        }
    }

    private static double ParseValue(JsonElement sample) =>
        double.Parse(sample[1].GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private string Log(string? line)
    {
        lock (_log)
        {
            if (line is not null)
            {
                _log.AppendLine(line);
            }

            return _log.ToString();
        }
    }
}
