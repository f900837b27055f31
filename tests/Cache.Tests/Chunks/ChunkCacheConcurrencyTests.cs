using S3Block.Cache.Chunks;
using static S3Block.Tests.Chunks.ChunkCacheTestKit;

namespace S3Block.Tests.Chunks;

public sealed class ChunkCacheConcurrencyTests
{
    private const int Keys = 12;

    /// <summary>Images of different lengths per key, so a mix-up of entries also shows up as a length error.</summary>
    private static readonly byte[][] Images = Enumerable.Range(0, Keys).Select(i => ImageFor(Key(i), ImageSize - (i * 1000))).ToArray();

    [Theory]
    [InlineData(0, 0)] // disk only: every hit reads a file that may be evicted at any moment
    [InlineData(2, 2)] // a tiny RAM tier in front, with promotions
    public async Task Many_readers_and_writers_on_overlapping_keys_never_see_wrong_bytes(int memoryEntries, int promoteAfter)
    {
        using var folder = new ChunkTestFolder();
        var diskBudget = 3 * EntryBytes;
        using var cache = ChunkCache.Open(new ChunkCacheOptions
        {
            Folder = folder.Path,
            DiskBudgetBytes = diskBudget,
            MemoryBudgetBytes = memoryEntries * ImageSize,
            PromoteAfterDiskHits = promoteAfter,
            UseStampInterval = TimeSpan.Zero, // stamp on every use, to race stamps against evictions too
        });

        var hits = 0L;
        var wrong = 0L;
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(
            async () =>
            {
                var random = new Random(w);
                for (var op = 0; op < 600; op++)
                {
                    var k = random.Next(Keys);
                    var key = Key(k);
                    var expected = Images[k];
                    switch (random.Next(10))
                    {
                        case < 3:
                            await cache.PutAsync(key, expected, Ct);
                            break;
                        case < 7:
                            var offset = random.Next(expected.Length / 512) * 512;
                            var length = Math.Min(random.Next(1, 9) * 512, expected.Length - offset);
                            var buffer = new byte[length];
                            if (await cache.TryReadAsync(key, offset, buffer, Ct))
                            {
                                Interlocked.Increment(ref hits);
                                if (!buffer.AsSpan().SequenceEqual(expected.AsSpan(offset, length)))
                                {
                                    Interlocked.Increment(ref wrong);
                                }
                            }

                            break;
                        case < 9:
                            if (await cache.TryGetWholeAsync(key, Ct) is { } image)
                            {
                                Interlocked.Increment(ref hits);
                                if (!image.AsSpan().SequenceEqual(expected))
                                {
                                    Interlocked.Increment(ref wrong);
                                }
                            }

                            break;
                        default:
                            if (random.Next(4) == 0)
                            {
                                cache.Remove(key);
                            }
                            else
                            {
                                _ = cache.Contains(key);
                            }

                            break;
                    }
                }
            },
            Ct)).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(0, wrong);
        Assert.True(hits > 100, $"only {hits} hits: the test did not exercise reads");

        // Quiescent: the index matches the folder exactly, within budget, with no leftovers.
        var stats = cache.GetStatistics();
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp", SearchOption.AllDirectories));
        var files = EntryFiles(folder.Path);
        Assert.Equal(stats.DiskEntries, files.Length);
        Assert.Equal(stats.DiskBytes, files.Sum(f => new FileInfo(f).Length));
        Assert.True(stats.DiskBytes <= diskBudget);
        Assert.True(stats.MemoryBytes <= memoryEntries * ImageSize);
        Assert.Equal(0, stats.CorruptEntries);
        Assert.True(stats.DiskEvictions > 0, "the budget should have forced evictions");
        for (var k = 0; k < Keys; k++)
        {
            if (await cache.TryGetWholeAsync(Key(k), Ct) is { } image)
            {
                Assert.Equal(Images[k], image);
            }
        }
    }

    [Fact]
    public async Task Concurrent_puts_of_the_same_key_write_one_file_once()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, memoryEntries: 2);
        var key = Key(1);
        var image = ImageFor(key);

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var puts = Enumerable.Range(0, 16).Select(_ => Task.Run(
            async () =>
            {
                await start.Task;
                return await cache.PutAsync(key, image, Ct);
            },
            Ct)).ToArray();
        start.SetResult();
        var results = await Task.WhenAll(puts);

        Assert.All(results, Assert.True);
        Assert.Single(AllFiles(folder.Path));
        var stats = cache.GetStatistics();
        Assert.Equal((1, EntryBytes, EntryBytes), (stats.DiskEntries, stats.DiskBytes, stats.DiskBytesWritten));
        Assert.Equal((1, (long)ImageSize), (stats.MemoryEntries, stats.MemoryBytes));
        Assert.Equal(image, await cache.TryGetWholeAsync(key, Ct));
    }

    [Fact]
    public async Task Reads_racing_the_eviction_of_their_entry_hit_with_the_right_bytes_or_miss()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, diskEntries: 2); // three keys in turn: each put evicts one
        string a = Key(1), b = Key(2), c = Key(3);
        byte[] imageA = ImageFor(a), imageB = ImageFor(b), imageC = ImageFor(c);
        using var stop = new CancellationTokenSource();
        var churning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var churn = Task.Run(
            async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await cache.PutAsync(a, imageA, Ct);
                    await cache.PutAsync(b, imageB, Ct);
                    await cache.PutAsync(c, imageC, Ct);
                    churning.TrySetResult();
                }
            },
            Ct);
        await churning.Task;

        // At least 3000 rounds, and on until both outcomes were seen (bounded, for a starved machine).
        long hits = 0, misses = 0;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        for (var i = 0; i < 3000 || ((hits == 0 || misses == 0) && DateTime.UtcNow < deadline); i++)
        {
            var whole = await cache.TryGetWholeAsync(a, Ct);
            if (whole is null)
            {
                misses++;
            }
            else
            {
                Assert.Equal(imageA, whole);
                hits++;
            }

            var block = new byte[4096];
            if (await cache.TryReadAsync(a, ImageSize - 4096, block, Ct))
            {
                Assert.Equal(imageA.AsSpan(ImageSize - 4096).ToArray(), block);
            }
        }

        await stop.CancelAsync();
        await churn;
        Assert.Equal(0, cache.GetStatistics().CorruptEntries);
        Assert.True(hits > 0 && misses > 0, $"hits {hits}, misses {misses}: the race was not exercised");
    }
}
