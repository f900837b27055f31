using S3Block.Cache.Chunks;
using static S3Block.Tests.Chunks.ChunkCacheTestKit;

namespace S3Block.Tests.Chunks;

/// <summary>
/// Chunk images cycling through a full RAM tier recycle their buffers (<see cref="ChunkBufferPool"/>) instead of leaving
/// megabytes of large-object-heap garbage per image. Alone in its collection: it counts the process's allocations.
/// </summary>
[Collection(nameof(ChunkBufferReuseTests))]
[CollectionDefinition(nameof(ChunkBufferReuseTests), DisableParallelization = true)]
public sealed class ChunkBufferReuseTests(ITestOutputHelper output)
{
    private const int ChunkBytes = 4 << 20;
    private const int Images = 32;

    [Theory]
    [InlineData(false)] // puts (an upload's image is copied in)
    [InlineData(true)]  // promotions (a disk entry read whole is taken over)
    public async Task Images_evicted_from_the_RAM_tier_give_their_buffers_back(bool promote)
    {
        using var folder = new ChunkTestFolder();
        using var cache = ChunkCache.Open(new ChunkCacheOptions
        {
            Folder = folder.Path,
            DiskBudgetBytes = ((2L * Images) + 1) * (ChunkBytes + (64 << 10)),
            MemoryBudgetBytes = 2L * ChunkBytes,
            PromoteAfterDiskHits = 1,
            UseStampInterval = TimeSpan.FromMinutes(1),
        });
        var image = ImageFor(Key(0), ChunkBytes);
        var back = new byte[4096];

        // Images 0.. go onto disk (and through the RAM tier); a first round also fills the pool to what the pattern needs.
        await PutAsync(cache, image, 0, Images);
        await ReadAsync(cache, image, back, 0, 4);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        if (promote)
        {
            await ReadAsync(cache, image, back, 4, Images); // each one from disk, loaded whole into RAM
        }
        else
        {
            await PutAsync(cache, image, Images, 2 * Images);
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        // Without the pool every image the RAM tier takes is a new 4 MiB array. Eviction callbacks run on the thread
        // pool, so an add can still find the pool empty now and then; half leaves room for that.
        var withoutPool = (long)Images * ChunkBytes;
        output.WriteLine($"allocated {allocated >> 20} MiB while {Images} images of {ChunkBytes >> 20} MiB went through the RAM tier (a new array each: {withoutPool >> 20} MiB)");
        Assert.True(allocated < withoutPool / 2, $"allocated {allocated >> 20} MiB, expected under {withoutPool >> 21} MiB");
        Assert.True(cache.GetStatistics().MemoryEvictions >= Images - 4);

        // Recycled buffers never leak one image's bytes into another's reads (these come from the RAM tier).
        var last = promote ? Images : 2 * Images;
        await ReadAsync(cache, image, back, last - 2, last);
    }

    [Fact]
    public async Task Readers_racing_every_way_a_RAM_entry_ends_never_read_a_returned_buffer()
    {
        const int Keys = 5, Size = 64 << 10;
        var keys = Enumerable.Range(0, Keys).Select(i => Key(i)).ToArray();
        var images = keys.Select(k => ImageFor(k, Size)).ToArray();
        var counters = new ChunkCacheCounters();
        var doubleReturnsBefore = ChunkBufferPool.DoubleReturns;
        long wrong = 0, hits = 0, misses = 0;
        var stop = false;
        ChunkBufferPool.Checked = true; // returned buffers are poisoned: a read after return shows as wrong bytes
        try
        {
            using var tier = new MemoryTier(2L * Size, counters); // two images: nearly every add compacts

            // Dedicated threads: on 2 cores, thread-pool loops starve each other.
            var readers = Enumerable.Range(0, 3).Select(r => Task.Factory.StartNew(
                () =>
                {
                    var random = new Random(r);
                    var whole = new byte[Size];
                    while (!Volatile.Read(ref stop))
                    {
                        var k = random.Next(Keys);
                        var copy = random.Next(4) == 0 ? tier.TryCopy(keys[k]) : (tier.TryRead(keys[k], 0, whole) ? whole : null);
                        if (copy is not null && !copy.AsSpan().SequenceEqual(images[k]))
                        {
                            Interlocked.Increment(ref wrong);
                        }

                        Interlocked.Increment(ref copy is not null ? ref hits : ref misses);
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default));

            // Every way an entry ends: compaction (capacity), removal, replacement by a competing add of the same key,
            // rejection on insert; and every way one begins: a copy, a pooled buffer taken over, a kept array.
            var writers = Enumerable.Range(0, 2).Select(w => Task.Factory.StartNew(
                () =>
                {
                    var random = new Random(100 + w);
                    while (!Volatile.Read(ref stop))
                    {
                        var k = random.Next(Keys);
                        switch (random.Next(6))
                        {
                            case 0:
                                tier.TryAdd(keys[k], images[k]);
                                break;
                            case 1:
                            case 2:
                                tier.TryAddPooled(keys[k], PooledCopy(images[k]), Size);
                                break;
                            case 3:
                                tier.TryAddOwned(keys[k], images[k]); // never pooled, never written
                                break;
                            case 4:
                                tier.Remove(keys[k]);
                                break;
                            default:
                                Parallel.For(0, 3, _ => tier.TryAddPooled(keys[k], PooledCopy(images[k]), Size));
                                break;
                        }
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default));

            var all = readers.Concat(writers).ToArray();
            await Task.Delay(TimeSpan.FromSeconds(4), Ct);
            Volatile.Write(ref stop, true);
            await Task.WhenAll(all);
            foreach (var key in keys)
            {
                tier.Remove(key);
            }
        }
        finally
        {
            ChunkBufferPool.Checked = false;
        }

        output.WriteLine($"hits {hits}, misses {misses}, evictions {counters.MemoryEvictions}");
        Assert.Equal(0, Interlocked.Read(ref wrong));
        Assert.Equal(doubleReturnsBefore, ChunkBufferPool.DoubleReturns);
        Assert.True(hits > 1_000 && misses > 100, $"hits {hits}, misses {misses}: the races were not exercised");
    }

    private static byte[] PooledCopy(byte[] image)
    {
        var buffer = ChunkBufferPool.Rent(image.Length);
        image.CopyTo(buffer, 0);
        return buffer;
    }

    /// <summary>Puts images <paramref name="from"/>..<paramref name="to"/>, told apart by their first byte.</summary>
    private static async Task PutAsync(ChunkCache cache, byte[] image, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            image[0] = (byte)i;
            Assert.True(await cache.PutAsync(Key(i), image, Ct));
        }
    }

    /// <summary>Reads the first block of images <paramref name="from"/>..<paramref name="to"/> and checks it: with a
    /// promotion after every disk hit, one read of a chunk not in RAM loads it whole into RAM.</summary>
    private static async Task ReadAsync(ChunkCache cache, byte[] image, byte[] back, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            image[0] = (byte)i;
            Assert.True(await cache.TryReadAsync(Key(i), 0, back, Ct));
            Assert.Equal(image[..back.Length], back);
        }
    }
}
