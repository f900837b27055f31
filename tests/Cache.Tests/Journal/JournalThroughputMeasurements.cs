using System.Diagnostics;
using static S3Block.Tests.Journal.JournalTestKit;

namespace S3Block.Tests.Journal;

/// <summary>
/// Throughput and sync-latency measurements on the machine's temp disk. Not a pass/fail test: runs only with
/// S3BLOCK_JOURNAL_BENCH=1 and prints its numbers (dotnet test --logger "console;verbosity=detailed").
/// </summary>
public sealed class JournalThroughputMeasurements
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<int, int, string> Cases => new()
    {
        { 4096, 32, "volatile" },
        { 4096, 32, "fua" },
        { 4096, 1, "fua" },
        { 128 << 10, 32, "volatile" },
        { 128 << 10, 32, "fua" },
        { 128 << 10, 1, "fua" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Measure(int recordBytes, int appenders, string mode)
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("S3BLOCK_JOURNAL_BENCH") == "1", "set S3BLOCK_JOURNAL_BENCH=1 to measure");
        using var dir = TempDirectory.OnDisk();
        var options = Options(alignment: 4096, segmentSize: 64 << 20, capacity: 8L << 30);
        var totalBytes = recordBytes >= 128 << 10 ? 1L << 30 : 256L << 20;
        var perAppender = (int)(totalBytes / recordBytes / appenders);
        var payload = Payload(recordBytes, 1);

        await using var journal = Open(dir.Path, options, out _);
        var latencies = new long[appenders * perAppender];
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, appenders).Select(t => Task.Run(
            async () =>
            {
                for (var i = 0; i < perAppender; i++)
                {
                    var begin = Stopwatch.GetTimestamp();
                    var position = await journal.AppendWriteAsync((long)i * recordBytes, payload, Ct);
                    if (mode == "fua")
                    {
                        await journal.WaitDurableAsync(position.Sequence, Ct);
                    }

                    latencies[(t * perAppender) + i] = Stopwatch.GetTimestamp() - begin;
                }
            },
            Ct)));
        await journal.FlushAsync(Ct);
        var elapsed = Stopwatch.GetElapsedTime(start);

        var stats = journal.GetStatistics();
        var records = appenders * perAppender;
        Array.Sort(latencies);
        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        TestContext.Current.TestOutputHelper!.WriteLine(
            $"record={recordBytes / 1024}KiB appenders={appenders} mode={mode}: {records / elapsed.TotalSeconds:F0} appends/s, "
            + $"{records * (double)recordBytes / (1 << 20) / elapsed.TotalSeconds:F1} MiB/s payload, "
            + $"syncs={stats.Syncs} ({(double)records / Math.Max(1, stats.Syncs):F1} records/sync), "
            + $"sync mean={stats.TotalSyncTime.TotalMilliseconds / Math.Max(1, stats.Syncs):F3} ms max={stats.MaxSyncDuration.TotalMilliseconds:F1} ms, "
            + $"op latency p50={Ms(latencies[records / 2]):F3} ms p99={Ms(latencies[records * 99 / 100]):F3} ms");
    }
}
