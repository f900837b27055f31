using System.Diagnostics;
using Ublk.Server.Block;
using S3Block.Cache.Journal;
using S3Block.TestKit.Volume;
using S3Block.Volume;

namespace S3Block.Tests.Volume;

/// <summary>Memory must not grow with the amount written: dirty data lives in the journal, not in RAM.</summary>
[Collection(nameof(MemoryBoundTests))]
[CollectionDefinition(nameof(MemoryBoundTests), DisableParallelization = true)]
public sealed class MemoryBoundTests(ITestOutputHelper output)
{
    private const long Written = 512L << 20;
    private const int WriteSize = 1 << 20; // ublk's largest request here

    [Fact]
    public async Task A_long_sequential_write_stays_within_a_fixed_memory_overhead()
    {
        using var harness = new VolumeHarness(sizeBytes: 1L << 30, chunkSize: 4 << 20);
        var options = new VolumeOptions
        {
            CommitInterval = TimeSpan.FromMilliseconds(200),
            CommitThresholdBytes = 32L << 20,
            MaxUploadsInFlight = 8,
            GarbageDelay = TimeSpan.Zero,
        };
        var journal = new JournalOptions { SegmentSizeBytes = 32 << 20, CapacityBytes = 128L << 20 };
        await using var volume = await harness.OpenAsync(options, journal: journal);
        var data = new byte[WriteSize];
        new Random(1).NextBytes(data);
        ForceCollection();
        var baselineRss = ResidentBytes();
        long peakRss = baselineRss, peakHeap = GC.GetTotalMemory(false);
        var clock = Stopwatch.StartNew();

        for (long offset = 0; offset < Written; offset += WriteSize)
        {
            data[0] = (byte)(offset >> 20); // every write differs
            await volume.WriteAsync(offset, data, WriteFlags.None, TestContext.Current.CancellationToken);
            if (offset % (16 << 20) == 0)
            {
                peakRss = Math.Max(peakRss, ResidentBytes());
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
            }
        }

        await volume.DrainAsync(null, TestContext.Current.CancellationToken);
        var elapsed = clock.Elapsed;
        peakRss = Math.Max(peakRss, ResidentBytes());
        var statistics = volume.GetStatistics();

        output.WriteLine($"wrote {Written >> 20} MiB in {elapsed.TotalSeconds:F1} s ({(Written >> 20) / elapsed.TotalSeconds:F0} MiB/s through journal + upload); " +
                         $"RSS baseline {baselineRss >> 20} MiB, peak {peakRss >> 20} MiB (+{(peakRss - baselineRss) >> 20} MiB); " +
                         $"peak GC heap {peakHeap >> 20} MiB; {statistics.CommitsPublished} commits, {statistics.BytesUploaded >> 20} MiB uploaded; " +
                         $"journal delayed appends {volume.Journal.GetStatistics().DelayedAppends}");
        Assert.Equal(0, statistics.DirtyBytes);
        Assert.True(statistics.BytesUploaded >= Written);

        // The fixed overhead: uploads in flight (8 x 4 MiB images), the write buffers and the runtime's pools. Nothing
        // proportional to the 512 MiB written may remain or accumulate.
        const long allowed = 160L << 20;
        Assert.True(peakRss - baselineRss < allowed, $"RSS grew by {(peakRss - baselineRss) >> 20} MiB writing {Written >> 20} MiB");
    }

    private static void ForceCollection()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    /// <summary>VmRSS from /proc/self/status: what the kernel charges this process.</summary>
    private static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }
}
