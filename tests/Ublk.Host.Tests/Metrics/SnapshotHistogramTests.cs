using S3Block.Ublk.Metrics;

namespace S3Block.Ublk.Tests.Metrics;

/// <summary>The journal's own fsync buckets reach Prometheus with the same counts and sum, scrape after scrape.</summary>
public sealed class SnapshotHistogramTests
{
    [Fact]
    public async Task GrowingBucketCountsAreExportedWithTheSameCountsAndSum()
    {
        using var metrics = new S3BlockMetrics("test", includeProcessMetrics: false);
        var journal = SampleMetrics.Journal;
        metrics.RegisterJournal(() => journal);
        await metrics.ScrapeAsync(TestContext.Current.CancellationToken);

        // 0.001 s more in bucket 0, 2 × 0.0015 in bucket 1, none above: sum +0.004.
        journal = journal with { SyncLatencyBuckets = [11, 32, 9, 1], TotalSyncSeconds = 0.254 };
        var text = await metrics.ScrapeAsync(TestContext.Current.CancellationToken);

        Assert.Contains("s3block_journal_fsync_duration_seconds_bucket{le=\"0.001\"} 11\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_journal_fsync_duration_seconds_bucket{le=\"0.002\"} 43\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_journal_fsync_duration_seconds_bucket{le=\"0.004\"} 52\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_journal_fsync_duration_seconds_count 53\n", text, StringComparison.Ordinal);
        var sum = text.Split('\n').Single(l => l.StartsWith("s3block_journal_fsync_duration_seconds_sum ", StringComparison.Ordinal));
        Assert.Equal(0.254, double.Parse(sum.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), 9);
    }

    [Theory]
    [InlineData(new long[] { 3, 0, 2, 0 }, 0.0065)] // inside the buckets' range
    [InlineData(new long[] { 0, 4, 0, 0 }, 0.0041)] // just above the lower bounds
    [InlineData(new long[] { 1, 1, 1, 2 }, 0.05)] // samples above the last bound take the rest
    public void SpreadPutsEveryValueInsideItsBucketAndKeepsTheSum(long[] counts, double sum)
    {
        double[] bounds = [0.001, 0.002, 0.004];

        var values = SnapshotHistogram.Spread(bounds, counts, sum);

        for (var i = 0; i < counts.Length; i++)
        {
            var lower = i == 0 ? 0 : bounds[i - 1];
            var upper = i < bounds.Length ? bounds[i] : double.PositiveInfinity;
            Assert.True(counts[i] == 0 || (values[i] > lower || i == 0) && values[i] <= upper, $"bucket {i}: {values[i]}");
        }

        Assert.Equal(sum, counts.Select((c, i) => c * values[i]).Sum(), 9);
    }
}
