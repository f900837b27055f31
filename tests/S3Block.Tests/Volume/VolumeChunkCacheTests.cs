using Ublk.Server.Block;
using S3Block.Cache.Chunks;
using S3Block.TestKit;
using S3Block.TestKit.Volume;
using S3Block.Volume;

namespace S3Block.Tests.Volume;

/// <summary>The volume with the real clean-chunk cache: uploaded and fetched chunks are served locally.</summary>
public sealed class VolumeChunkCacheTests : IDisposable
{
    private readonly VolumeHarness _harness = new(sizeBytes: 1 << 20, chunkSize: 64 * 1024);
    private readonly TempFolder _cacheFolder = new("chunk-cache");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Uploaded_chunks_are_read_from_the_cache_even_across_a_restart_with_the_store_down()
    {
        var expected = new byte[_harness.Descriptor.SizeBytes];
        new Random(3).NextBytes(expected);
        using (var cache = OpenCache())
        {
            await using var volume = await OpenAsync(cache);
            await volume.WriteAsync(0, expected, WriteFlags.None, Ct);
            await volume.CloseAsync(drain: true, progress: null, Ct);
            Assert.Equal(16, cache.GetStatistics().DiskEntries);
        }

        using (var cache = OpenCache())
        {
            await using var volume = await OpenAsync(cache);
            await volume.InitialSweep; // its LIST is the only store call of a fresh open besides the lease's renewals
            _harness.Store.Down = true;

            Assert.Equal(expected, await VolumeHarness.ReadAllAsync(volume));
            Assert.Empty(_harness.Store.KeysWhileDownBesidesTheLease);
            Assert.Equal(0, volume.GetStatistics().ChunkFetches);
            _harness.Store.Down = false;
        }
    }

    [Fact]
    public async Task A_cache_miss_fetches_once_and_later_reads_hit()
    {
        await using (var writer = await _harness.OpenAsync())
        {
            await writer.WriteAsync(0, new byte[64 * 1024].Select((_, i) => (byte)i).ToArray(), WriteFlags.None, Ct);
            await writer.CloseAsync(drain: true, progress: null, Ct);
        }

        using var cache = OpenCache();
        await using var volume = await OpenAsync(cache);
        var buffer = new byte[4096];
        for (var i = 0; i < 16; i++)
        {
            await volume.ReadAsync(i * 4096L, buffer, Ct);
            Assert.Equal((byte)(i * 4096), buffer[0]);
        }

        var statistics = volume.GetStatistics();
        Assert.Equal(1, statistics.ChunkFetches);
        Assert.Equal(15, statistics.CacheHits);
    }

    public void Dispose()
    {
        _harness.Dispose();
        _cacheFolder.Dispose();
    }

    private ChunkCache OpenCache() => ChunkCache.Open(new ChunkCacheOptions
    {
        Folder = _cacheFolder.Path,
        DiskBudgetBytes = 8 << 20,
        MemoryBudgetBytes = 1 << 20,
    });

    private Task<S3Volume> OpenAsync(ChunkCache cache) => S3Volume.OpenAsync(new S3Volume.OpenContext
    {
        Store = _harness.Store,
        VolumeName = "vol",
        JournalDirectory = _harness.JournalDirectory,
        Cache = new ChunkCacheAdapter(cache),
        Options = VolumeHarness.ManualCommits,
        Node = _harness.Node,
    }, Ct);
}
