namespace S3Block.Ublk.Tests.Metrics;

/// <summary>
/// End to end with a real Prometheus (Debian's package, installed by tests/metrics/install.sh): it scrapes our
/// endpoint every second, and its HTTP API must return our series, with labels, histograms and escaping intact.
/// </summary>
public sealed class PrometheusServerTests(PrometheusServer prometheus) : IClassFixture<PrometheusServer>
{
    [Fact]
    public async Task PrometheusScrapesTheEndpointAndReturnsBuildInfo()
    {
        IReadOnlyList<(Dictionary<string, string> Labels, double Value)> result = [];
        await prometheus.WaitUntilAsync("s3block_build_info in a query result", async () =>
        {
            result = await prometheus.QueryAsync("s3block_build_info");
            return result.Count > 0;
        });

        var (labels, value) = Assert.Single(result);
        Assert.Equal(1, value);
        Assert.Equal("1.2.3-test", labels["version"]);
        Assert.Equal(PrometheusServer.Job, labels["job"]);
        Assert.Equal(prometheus.Instance, labels["instance"]);
        var up = Assert.Single(await prometheus.QueryAsync($"up{{job=\"{PrometheusServer.Job}\"}}"));
        Assert.Equal(1, up.Value);
    }

    [Fact]
    public async Task CountersGaugesHistogramsAndEscapedLabelsSurviveTheRoundTrip()
    {
        await WaitForScrapesAsync(1);

        var errors = Assert.Single(await prometheus.QueryAsync("s3block_io_requests_total{op=\"write\",result=\"error\"}"));
        var device = Assert.Single(await prometheus.QueryAsync("s3block_device_info"));
        var fill = Assert.Single(await prometheus.QueryAsync("s3block_journal_fill_ratio"));
        var median = Assert.Single(await prometheus.QueryAsync("histogram_quantile(0.5, s3block_journal_fsync_duration_seconds_bucket)"));
        var processStart = Assert.Single(await prometheus.QueryAsync("process_start_time_seconds"));

        Assert.Equal(1, errors.Value);
        Assert.Equal("vol\"1", device.Labels["volume"]);
        Assert.Equal("4194304", device.Labels["chunk_bytes"]);
        Assert.Equal(0.25, fill.Value, 9);
        // 50 syncs: 10 ≤ 1 ms, 30 in (1 ms, 2 ms]; the 25th falls halfway into the second bucket.
        Assert.Equal(0.0015, median.Value, 9);
        Assert.True(processStart.Value > 1_600_000_000);
    }

    [Fact]
    public async Task EveryDashboardQueryIsValidAndReturnsData()
    {
        // Three scrapes so that rate() over the dashboard's window has samples to work with.
        await WaitForScrapesAsync(3);
        var failures = new List<string>();

        foreach (var expr in DashboardTests.Expressions())
        {
            var promql = expr
                .Replace("$job", PrometheusServer.Job, StringComparison.Ordinal)
                .Replace("$instance", prometheus.Instance, StringComparison.Ordinal)
                .Replace("$__rate_interval", "1m", StringComparison.Ordinal);
            if ((await prometheus.QueryAsync(promql)).Count == 0)
            {
                failures.Add(promql);
            }
        }

        Assert.True(failures.Count == 0, $"dashboard queries without data:\n{string.Join('\n', failures)}");
    }

    private async Task WaitForScrapesAsync(int scrapes) =>
        await prometheus.WaitUntilAsync($"{scrapes} scrapes", async () =>
        {
            var result = await prometheus.QueryAsync($"count_over_time(up{{job=\"{PrometheusServer.Job}\"}}[1m])");
            return result.Count > 0 && result[0].Value >= scrapes;
        });
}
