using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using S3Block.ObjectStore;
using S3Block.TestKit;
using S3Block.Ublk.Cli;
using S3Block.Ublk.Daemon;
using S3Block.Ublk.Metrics;

namespace S3Block.Ublk.Tests.Metrics;

/// <summary>The daemon's object store is metered: S3 requests by operation and outcome, latency, bytes and retries.</summary>
public sealed partial class DaemonStoreMeteringTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"s3block-metering-{Guid.NewGuid():N}");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task TheStoreTheRunCommandsHostGivesTheDaemonRecordsEveryRequestOnTheHostsMetrics()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Store:Kind"] = "local",
            ["Store:Local:Path"] = Path.Combine(_folder, "store"),
            ["Daemon:StateDirectory"] = Path.Combine(_folder, "state"),
            ["Metrics:Enabled"] = "false",
        }).Build();
        var settings = DaemonSettings.Load(new CommandContext(configuration, TextWriter.Null), "vol1", forceTakeover: false);
        using var host = DaemonHost.Build(settings, configuration);
        var metrics = host.Services.GetRequiredService<S3BlockMetrics>();

        using (var store = host.Services.GetRequiredService<DaemonStoreFactory>().Create())
        {
            await store.PutAsync("k", new byte[100], PutCondition.None, Ct);
            await store.GetAsync("k", null, Ct);
            await Assert.ThrowsAsync<ObjectStoreException>(() => store.HeadAsync("missing", Ct));
        }

        var text = await metrics.ScrapeAsync(Ct);
        var seen = S3Requests().Matches(text).Select(m => $"{m.Groups[1].Value}/{m.Groups[2].Value}={m.Groups[3].Value}");
        Assert.Equal(["GetObject/ok=1", "HeadObject/not_found=1", "PutObject/ok=1"], seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task EachAttemptIsCountedWithItsOutcomeAndEachRetryWhereTheRetryLayerDecidesIt()
    {
        using var metrics = new S3BlockMetrics("test", includeProcessMetrics: false);
        var options = new StoreOptions { Kind = "local" };
        options.Local.Path = Path.Combine(_folder, "store");
        var fast = new RetryPolicy(4, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5));
        FlakyStore? flaky = null;

        using (var store = new DaemonStoreFactory(options, metrics).Create(fast, bare => flaky = new FlakyStore(bare, failures: 2)))
        {
            await store.PutAsync("k", new byte[4096], PutCondition.None, Ct);
            await store.GetAsync("k", null, Ct);
        }

        var text = await metrics.ScrapeAsync(Ct);
        Assert.Equal(4, flaky!.Calls);
        Assert.Contains("s3block_s3_requests_total{operation=\"PutObject\",outcome=\"transient_error\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_s3_requests_total{operation=\"PutObject\",outcome=\"ok\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_s3_requests_total{operation=\"GetObject\",outcome=\"ok\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_s3_retries_total{operation=\"PutObject\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_s3_request_duration_seconds_count{operation=\"PutObject\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_s3_bytes_total{direction=\"upload\"} 4096\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_s3_bytes_total{direction=\"download\"} 4096\n", text, StringComparison.Ordinal);

        // What the dashboard plots for S3 is what this store makes the daemon export.
        var dashboardS3 = DashboardTests.Expressions().SelectMany(e => S3Series().Matches(e).Select(m => m.Value)).ToHashSet();
        Assert.NotEmpty(dashboardS3);
        Assert.All(dashboardS3, name => Assert.Contains($"\n{name}{{", text, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"\bs3block_s3_[a-z0-9_]+")]
    private static partial Regex S3Series();

    [GeneratedRegex(@"\ns3block_s3_requests_total\{operation=""(\w+)"",outcome=""(\w+)""\} (\S+)")]
    private static partial Regex S3Requests();
}
