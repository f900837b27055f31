using S3Block.Ublk.Metrics;

namespace S3Block.Ublk.Tests.Metrics;

public sealed class ProcessMetricsTests
{
    [Fact]
    public void StatmGivesVirtualAndResidentPages()
    {
        Assert.Equal((1000L, 250L), ProcFs.ParseStatm("1000 250 100 10 0 500 0\n"));
        Assert.Null(ProcFs.ParseStatm("garbage"));
    }

    [Fact]
    public void TheThreadCountIsCountedFromTheLastParenthesisBecauseCommandNamesMayHoldSpacesAndParentheses()
    {
        var fields = string.Join(' ', Enumerable.Range(3, 50).Select(i => i == 20 ? "17" : "0"));

        Assert.Equal(17, ProcFs.ParseThreadCount($"1234 (my (odd) name) {fields}"));
        Assert.Null(ProcFs.ParseThreadCount("1234 no parenthesis"));
    }

    [Fact]
    public void MaxOpenFilesIsTheSoftLimit()
    {
        const string limits = """
            Limit                     Soft Limit           Hard Limit           Units
            Max cpu time              unlimited            unlimited            seconds
            Max open files            1024                 524288               files
            """;

        Assert.Equal(1024, ProcFs.ParseMaxOpenFiles(limits));
        Assert.Null(ProcFs.ParseMaxOpenFiles("Max open files            unlimited            unlimited            files"));
    }

    [Fact]
    public void ProcessMetricsReadThisProcess()
    {
        var families = new List<MetricFamily>();
        new ProcessMetrics().Collect(families);
        var values = families.ToDictionary(f => f.Name, f => ((ValuePoint)f.Points.Single()).Value);

        Assert.InRange(values["process_resident_memory_bytes"], 1 << 20, 1L << 40);
        Assert.True(values["process_virtual_memory_bytes"] >= values["process_resident_memory_bytes"]);
        Assert.InRange(values["process_open_fds"], 3, values["process_max_fds"]);
        Assert.True(values["process_cpu_seconds_total"] > 0);
        Assert.True(values["process_threads"] >= 1);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.InRange(values["process_start_time_seconds"], now - 86_400, now + 1);
        Assert.Equal(MetricType.Counter, families.Single(f => f.Name == "process_cpu_seconds_total").Type);
    }

    [Fact]
    public void RuntimeMetricsCoverTheGcAndTheThreadPool()
    {
        var families = new List<MetricFamily>();
        new RuntimeMetrics().Collect(families);
        var byName = families.ToDictionary(f => f.Name);

        Assert.True(((ValuePoint)byName["dotnet_gc_heap_bytes"].Points.Single()).Value > 0);
        Assert.Equal(["0", "1", "2"], byName["dotnet_gc_collections_total"].Points.Select(p => p.Labels.Single().Value));
        Assert.True(((ValuePoint)byName["dotnet_threadpool_threads"].Points.Single()).Value >= 0);
        Assert.Contains("dotnet_gc_allocated_bytes_total", byName.Keys);
        Assert.Contains("dotnet_gc_pause_seconds_total", byName.Keys);
    }
}
