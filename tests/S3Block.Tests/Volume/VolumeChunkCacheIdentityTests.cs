using Ublk.Server.Block;
using S3Block.Cache.Chunks;
using S3Block.ObjectStore;
using S3Block.TestKit;
using S3Block.TestKit.Volume;
using S3Block.Volume;

namespace S3Block.Tests.Volume;

/// <summary>
/// The clean-chunk cache is bound to the volume's identity and verified on every hit: a volume re-created under the same
/// name (in the same store or another one) never reads, nor uploads as a base image, the old volume's cached bytes; a
/// damaged entry is a miss and the volume reads the right data from the store.
/// </summary>
public sealed class VolumeChunkCacheIdentityTests : IDisposable
{
    private const int ChunkSize = 64 * 1024;
    private readonly VolumeHarness _harness = new(sizeBytes: 1 << 20, chunkSize: ChunkSize);
    private readonly TempFolder _cacheFolder = new("chunk-cache");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public enum Recreation
    {
        /// <summary>The old volume's objects deleted from the same local store folder, then <c>create</c> again.</summary>
        SameStoreAfterDeletingTheOldObjects,

        /// <summary>The same state (cache) folder pointed at another store holding a volume of the same name.</summary>
        AnotherStore,
    }

    [Theory]
    [InlineData(Recreation.SameStoreAfterDeletingTheOldObjects)]
    [InlineData(Recreation.AnotherStore)]
    public async Task A_volume_re_created_under_the_same_name_reads_zeros_and_its_own_data_never_the_old_volumes_cached_bytes(Recreation how)
    {
        var oldData = new byte[_harness.Descriptor.SizeBytes];
        new Random(11).NextBytes(oldData);
        using (var cache = OpenCache())
        {
            await using var oldVolume = await OpenAsync(cache, _harness.Store, _harness.JournalDirectory);
            await oldVolume.WriteAsync(0, oldData, WriteFlags.None, Ct);
            await oldVolume.CloseAsync(drain: true, progress: null, Ct);
        }

        var oldChunkKeys = await ChunkKeysAsync(_harness.Store);
        using var other = how == Recreation.AnotherStore ? new VolumeHarness(sizeBytes: 1 << 20, chunkSize: ChunkSize) : null;
        IObjectStore store = other?.Store ?? _harness.Store;
        var journal = other?.JournalDirectory ?? _harness.JournalDirectory;
        if (other is null)
        {
            await foreach (var info in _harness.Store.ListAllAsync("vol/", Ct))
            {
                await _harness.Store.DeleteAsync(info.Key, Ct);
            }

            await VolumeCatalog.CreateAsync(_harness.Store, VolumeDescriptor.CreateNew("vol", 1 << 20, ChunkSize), Ct);
        }

        var first = Filled(4096, 0xA1);
        var second = Filled(4096, 0xB2);
        var expected = new byte[oldData.Length];
        first.CopyTo(expected, 0);
        second.CopyTo(expected, 8192);
        using (var cache = OpenCache()) // a restarted daemon over the same state folder: the old entries are on disk
        {
            await using var volume = await OpenAsync(cache, store, journal);
            Assert.NotEqual(_harness.Descriptor.VolumeId, volume.Descriptor.VolumeId);
            Assert.Equal(new byte[oldData.Length], await VolumeHarness.ReadAllAsync(volume));

            await volume.WriteAsync(0, first, WriteFlags.None, Ct);
            await volume.DrainAsync(null, Ct);
            // The premise: its first commit of chunk 0 has exactly the object key the old volume's chunk 0 had.
            Assert.Contains(Assert.Single(await ChunkKeysAsync(store)), oldChunkKeys);

            // A partial write: the upload builds the image on the chunk's committed version, read from the cache.
            await volume.WriteAsync(8192, second, WriteFlags.None, Ct);
            await volume.DrainAsync(null, Ct);
            Assert.Equal(expected, await VolumeHarness.ReadAllAsync(volume));
            await volume.CloseAsync(drain: true, progress: null, Ct);
        }

        // What went to the store, read without any cache: no base image carried the old volume's bytes.
        await using (var fromStore = await OpenAsync(NoChunkCache.Instance, store, journal))
        {
            Assert.Equal(expected, await VolumeHarness.ReadAllAsync(fromStore));
            await fromStore.CloseAsync(drain: true, progress: null, Ct);
        }

        // And after another restart, the cache serves the new volume's bytes.
        using (var cache = OpenCache())
        {
            await using var volume = await OpenAsync(cache, store, journal);
            Assert.Equal(expected, await VolumeHarness.ReadAllAsync(volume));
            Assert.True(volume.GetStatistics().CacheHits > 0);
        }
    }

    public enum CachedRead
    {
        /// <summary>A 4 KiB read of the damaged block (a ranged disk hit).</summary>
        RangedReadOfTheDamagedBlock,

        /// <summary>A partial write whose upload reads the whole committed image from the cache as its base.</summary>
        WholeReadAsTheUploadBase,
    }

    [Theory]
    [InlineData(CachedRead.RangedReadOfTheDamagedBlock)]
    [InlineData(CachedRead.WholeReadAsTheUploadBase)]
    public async Task A_flipped_byte_in_a_cached_entry_is_a_miss_and_the_volume_reads_the_right_data_from_the_store(CachedRead read)
    {
        var data = new byte[ChunkSize];
        new Random(5).NextBytes(data);
        using (var cache = OpenCache())
        {
            await using var volume = await OpenAsync(cache, _harness.Store, _harness.JournalDirectory);
            await volume.WriteAsync(0, data, WriteFlags.None, Ct);
            await volume.CloseAsync(drain: true, progress: null, Ct);
        }

        var entry = Assert.Single(Directory.GetFiles(_cacheFolder.Path, "*.chunk", SearchOption.AllDirectories));
        var bytes = File.ReadAllBytes(entry);
        bytes[4096 + (5 * 4096) + 100] ^= 0x01; // a data byte in block 5 of chunk 0
        File.WriteAllBytes(entry, bytes);

        var expected = data.ToArray();
        using (var cache = OpenCache())
        {
            await using var volume = await OpenAsync(cache, _harness.Store, _harness.JournalDirectory);
            if (read == CachedRead.RangedReadOfTheDamagedBlock)
            {
                var block = new byte[4096];
                await volume.ReadAsync(5 * 4096, block, Ct);
                Assert.Equal(data.AsSpan(5 * 4096, 4096).ToArray(), block);
            }
            else
            {
                var patch = Filled(4096, 0xC3);
                await volume.WriteAsync(0, patch, WriteFlags.None, Ct);
                patch.CopyTo(expected, 0);
                await volume.DrainAsync(null, Ct);
            }

            Assert.Equal(1, volume.GetStatistics().ChunkFetches);
            Assert.Equal((1L, 1L), (cache.GetStatistics().ChecksumMismatches, cache.GetStatistics().CorruptEntries));
            Assert.Equal(expected, (await VolumeHarness.ReadAllAsync(volume))[..ChunkSize]);
            await volume.CloseAsync(drain: true, progress: null, Ct);
        }

        await using var fromStore = await OpenAsync(NoChunkCache.Instance, _harness.Store, _harness.JournalDirectory);
        Assert.Equal(expected, (await VolumeHarness.ReadAllAsync(fromStore))[..ChunkSize]);
    }

    public void Dispose()
    {
        _harness.Dispose();
        _cacheFolder.Dispose();
    }

    private static byte[] Filled(int length, byte value) => Enumerable.Repeat(value, length).ToArray();

    private static async Task<List<string>> ChunkKeysAsync(IObjectStore store)
    {
        var keys = new List<string>();
        await foreach (var info in store.ListAllAsync("vol/chunks/", Ct))
        {
            keys.Add(info.Key);
        }

        return keys;
    }

    /// <summary>Disk tier only, so that every hit is a disk hit (the RAM tier would hide what the disk holds).</summary>
    private ChunkCache OpenCache() => ChunkCache.Open(new ChunkCacheOptions
    {
        Folder = _cacheFolder.Path,
        DiskBudgetBytes = 8 << 20,
        MemoryBudgetBytes = 0,
    });

    private Task<S3Volume> OpenAsync(ChunkCache cache, IObjectStore store, string journal) =>
        OpenAsync(new ChunkCacheAdapter(cache), store, journal);

    private Task<S3Volume> OpenAsync(ICleanChunkCache cache, IObjectStore store, string journal) => S3Volume.OpenAsync(new S3Volume.OpenContext
    {
        Store = store,
        VolumeName = "vol",
        JournalDirectory = journal,
        Cache = cache,
        Options = VolumeHarness.ManualCommits,
        Node = _harness.Node,
    }, Ct);
}
