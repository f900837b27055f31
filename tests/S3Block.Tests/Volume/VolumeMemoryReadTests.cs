using Ublk.Server.Block;
using S3Block.Cache.Chunks;
using S3Block.TestKit;
using S3Block.TestKit.Volume;
using S3Block.Volume;

namespace S3Block.Tests.Volume;

/// <summary>
/// <see cref="S3Volume.TryReadFromMemory"/>, which a ublk queue thread calls before it hands a read to the thread pool:
/// it answers only what needs no I/O (zeros of an absent chunk, a committed chunk in the RAM tier, never a range with
/// dirty extents) and, when it answers, the bytes are the ones <see cref="S3Volume.ReadAsync"/> returns.
/// </summary>
public sealed class VolumeMemoryReadTests : IDisposable
{
    private const int ChunkSize = 64 * 1024;
    private readonly VolumeHarness _harness = new(sizeBytes: 1 << 20, chunkSize: ChunkSize);
    private readonly TempFolder _cacheFolder = new("memory-read-cache");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Answers_zeros_and_ram_cached_chunks_and_refuses_ranges_with_dirty_extents()
    {
        using var cache = OpenCache();
        await using var volume = await OpenAsync(cache);
        var buffer = new byte[2 * 4096];

        // Nothing written: every chunk is absent, so zeros need no I/O.
        buffer.AsSpan().Fill(0xEE);
        Assert.True(volume.TryReadFromMemory(ChunkSize, buffer));
        Assert.All(buffer, b => Assert.Equal(0, b));

        var data = Filled(8192, 0x5A);
        await volume.WriteAsync(0, data, WriteFlags.None, Ct);
        Assert.False(volume.TryReadFromMemory(0, buffer), "a dirty range lives in the journal file: that is I/O");
        Assert.False(volume.TryReadFromMemory(4096, new byte[4096]), "partly dirty");
        Assert.True(volume.TryReadFromMemory(16384, buffer), "the same chunk, but no extent there and the chunk is absent in S3");
        Assert.All(buffer, b => Assert.Equal(0, b));

        Assert.True(await volume.CommitOnceAsync(Ct));
        Array.Clear(buffer);
        Assert.True(volume.TryReadFromMemory(0, buffer), "committed, and the upload left the image in the RAM tier");
        Assert.Equal(data, buffer);

        // A newer write over half the range: that half is dirty again, the other half still comes from RAM.
        var newer = Filled(4096, 0xC3);
        await volume.WriteAsync(4096, newer, WriteFlags.None, Ct);
        Assert.False(volume.TryReadFromMemory(0, buffer));
        var firstHalf = new byte[4096];
        Assert.True(volume.TryReadFromMemory(0, firstHalf));
        Assert.Equal(data.AsSpan(0, 4096).ToArray(), firstHalf);

        // Across a chunk boundary: the end of chunk 0 (committed, in RAM) and the start of chunk 1 (absent).
        Assert.True(await volume.CommitOnceAsync(Ct));
        var across = new byte[8192];
        Assert.True(volume.TryReadFromMemory(ChunkSize - 4096, across));
        Assert.Equal(new byte[8192], across);
        Assert.Throws<BlockIOException>(() => volume.TryReadFromMemory(1 << 20, new byte[4096]));
    }

    [Fact]
    public async Task Without_a_ram_tier_only_absent_chunks_are_answered()
    {
        using var cache = OpenCache(memoryBudget: 0);
        await using var volume = await OpenAsync(cache);
        await volume.WriteAsync(0, Filled(4096, 1), WriteFlags.None, Ct);
        Assert.True(await volume.CommitOnceAsync(Ct));

        Assert.False(volume.TryReadFromMemory(0, new byte[4096]), "the chunk is only on disk");
        Assert.True(volume.TryReadFromMemory(ChunkSize, new byte[4096]));
    }

    /// <summary>
    /// Random writes, commits that run while memory reads are in flight, and reads both ways: every answer from memory
    /// equals the model (all writes before a read completed before it), and so does every asynchronous read.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_writes_commits_and_reads_never_read_stale_bytes_from_memory(int seed)
    {
        var random = new Random(seed);
        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed}");
        using var cache = OpenCache(memoryBudget: 256 * 1024); // 4 chunks of 16: evictions happen
        await using var volume = await OpenAsync(cache);
        var model = new byte[_harness.Descriptor.SizeBytes];
        long answered = 0, refused = 0;

        for (var round = 0; round < 60; round++)
        {
            for (var w = random.Next(1, 6); w > 0; w--)
            {
                var (offset, length) = RandomRange(random);
                var bytes = new byte[length];
                random.NextBytes(bytes);
                await volume.WriteAsync(offset, bytes, WriteFlags.None, Ct);
                bytes.CopyTo(model, offset);
            }

            // A commit races the memory reads below (it changes versions, fills the RAM tier, drops extents).
            var commit = random.Next(3) > 0 ? Task.Run(() => volume.CommitOnceAsync(Ct), Ct) : Task.FromResult(true);
            for (var r = 0; r < 40; r++)
            {
                var (offset, length) = RandomRange(random);
                var got = new byte[length];
                if (volume.TryReadFromMemory(offset, got))
                {
                    answered++;
                    Assert.True(model.AsSpan((int)offset, length).SequenceEqual(got), $"seed {seed} round {round}: memory read {offset}+{length} differs from the model");
                }
                else
                {
                    refused++;
                    await volume.ReadAsync(offset, got, Ct);
                    Assert.True(model.AsSpan((int)offset, length).SequenceEqual(got), $"seed {seed} round {round}: read {offset}+{length} differs from the model");
                }
            }

            Assert.True(await commit);
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed}: {answered} reads answered from memory, {refused} not");
        Assert.True(answered > 100 && refused > 100, $"both paths must be exercised: {answered} from memory, {refused} not");
    }

    public void Dispose()
    {
        _harness.Dispose();
        _cacheFolder.Dispose();
    }

    private static (long Offset, int Length) RandomRange(Random random)
    {
        var blocks = (int)((1 << 20) / 4096);
        var length = random.Next(1, 33);
        var first = random.Next(0, blocks - length + 1);
        return (first * 4096L, length * 4096);
    }

    private static byte[] Filled(int length, byte value)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill(value);
        return bytes;
    }

    private ChunkCache OpenCache(long memoryBudget = 8 << 20) => ChunkCache.Open(new ChunkCacheOptions
    {
        Folder = _cacheFolder.Path,
        DiskBudgetBytes = 8 << 20,
        MemoryBudgetBytes = memoryBudget,
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
