using S3Block.Ublk.Metrics;

namespace S3Block.Ublk.Tests.Metrics;

public sealed class HistogramBucketsTests
{
    [Fact]
    public void ExponentialBucketsPrintCleanly()
    {
        var bounds = HistogramBuckets.Exponential(0.0001, 2, 16);

        Assert.Equal(16, bounds.Length);
        Assert.Equal(0.0008, bounds[3]);
        Assert.Equal(3.2768, bounds[^1]);
    }

    [Fact]
    public void TheCatalogsBucketSetsSpanTheirRanges()
    {
        Assert.Equal((0.0001, 3.2768), (HistogramBuckets.BlockIo[0], HistogramBuckets.BlockIo[^1]));
        Assert.Equal((0.005, 20.48), (HistogramBuckets.S3Request[0], HistogramBuckets.S3Request[^1]));
    }

    [Fact]
    public void NaNIsIgnoredByCountersAndHistograms()
    {
        using var sample = new SampleMetrics(populate: false, includeProcessMetrics: false);
        sample.Metrics.RecordIo(BlockOp.Read, 4096, double.NaN, IoResult.Ok);
        sample.Metrics.RecordIo(BlockOp.Read, 4096, 0.001, IoResult.Ok);

        var text = sample.Scrape();

        Assert.Contains("s3block_io_duration_seconds_count{op=\"read\",result=\"ok\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_io_duration_seconds_sum{op=\"read\",result=\"ok\"} 0.001\n", text, StringComparison.Ordinal);
        Assert.Contains("s3block_io_requests_total{op=\"read\",result=\"ok\"} 2\n", text, StringComparison.Ordinal);
    }
}
