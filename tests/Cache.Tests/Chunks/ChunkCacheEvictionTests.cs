using S3Block.Cache.Chunks;
using static S3Block.Tests.Chunks.ChunkCacheTestKit;

namespace S3Block.Tests.Chunks;

public sealed class ChunkCacheEvictionTests
{
    [Fact]
    public async Task The_disk_tier_evicts_the_least_recently_used_entry_and_a_read_protects_an_entry()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, diskEntries: 3);
        string a = Key(1), b = Key(2), c = Key(3), d = Key(4), e = Key(5);
        await cache.PutAsync(a, ImageFor(a), Ct);
        await cache.PutAsync(b, ImageFor(b), Ct);
        await cache.PutAsync(c, ImageFor(c), Ct);

        Assert.True(await cache.TryReadAsync(a, 0, new byte[16], Ct)); // a is now the most recent; b the least
        await cache.PutAsync(d, ImageFor(d), Ct);
        Assert.False(cache.Contains(b));
        Assert.True(cache.Contains(a) && cache.Contains(c) && cache.Contains(d));

        Assert.True(await cache.PutAsync(a, ImageFor(a), Ct)); // putting an existing key also counts as a use
        await cache.PutAsync(e, ImageFor(e), Ct);
        Assert.False(cache.Contains(c));
        Assert.True(cache.Contains(a) && cache.Contains(d) && cache.Contains(e));

        var stats = cache.GetStatistics();
        Assert.Equal(2, stats.DiskEvictions);
        Assert.Equal(3, stats.DiskEntries);
        Assert.Equal(3 * EntryBytes, stats.DiskBytes);
        Assert.Equal(3, EntryFiles(folder.Path).Length);
        Assert.False(await cache.TryReadAsync(b, 0, new byte[16], Ct));
    }

    [Fact]
    public async Task The_disk_tier_never_holds_more_than_its_budget_with_mixed_sizes()
    {
        using var folder = new ChunkTestFolder();
        var budget = 5 * EntryBytes;
        using var cache = ChunkCache.Open(new() { Folder = folder.Path, DiskBudgetBytes = budget, MemoryBudgetBytes = 0 });
        var random = new Random(5);
        for (var i = 0; i < 60; i++)
        {
            var key = Key(i);
            await cache.PutAsync(key, ImageFor(key, random.Next(0, 2 * ImageSize)), Ct);
            var onDisk = AllFiles(folder.Path).Sum(f => new FileInfo(f).Length);
            Assert.True(onDisk <= budget, $"{onDisk} bytes on disk after put {i}, budget {budget}");
            Assert.Equal(onDisk, cache.GetStatistics().DiskBytes);
        }
    }

    [Fact]
    public async Task An_image_larger_than_the_disk_budget_is_skipped_but_still_served_from_ram()
    {
        using var folder = new ChunkTestFolder();
        using var cache = ChunkCache.Open(new()
        {
            Folder = folder.Path,
            DiskBudgetBytes = EntryBytes,
            MemoryBudgetBytes = 4 * ImageSize,
        });
        var key = Key(1);
        var image = ImageFor(key, ImageSize + 1);

        Assert.False(await cache.PutAsync(key, image, Ct));
        Assert.Equal(1, cache.GetStatistics().DiskPutsSkipped);
        Assert.Empty(AllFiles(folder.Path));
        Assert.Equal(image, await cache.TryGetWholeAsync(key, Ct));
    }

    [Fact]
    public async Task The_ram_tier_stays_within_its_budget_and_keeps_the_recently_used_entries()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, diskEntries: 100, memoryEntries: 4);
        var hot = Key(0);
        await cache.PutAsync(hot, ImageFor(hot), Ct);
        for (var i = 1; i <= 20; i++)
        {
            Assert.True(await cache.TryReadAsync(hot, 0, new byte[8], Ct)); // keep it hot
            await cache.PutAsync(Key(i), ImageFor(Key(i)), Ct);
            var stats = cache.GetStatistics();
            Assert.True(stats.MemoryBytes <= 4 * ImageSize, $"{stats.MemoryBytes} bytes in RAM");
        }

        var before = cache.GetStatistics();
        Assert.Equal(4, before.MemoryEntries);
        Assert.True(await cache.TryReadAsync(hot, 100, new byte[8], Ct));
        Assert.True(await cache.TryReadAsync(Key(20), 100, new byte[8], Ct)); // the newest put is in RAM
        Assert.True(await cache.TryReadAsync(Key(1), 100, new byte[8], Ct));  // long gone from RAM, still on disk
        var after = cache.GetStatistics();
        Assert.Equal(before.MemoryHits + 2, after.MemoryHits);
        Assert.Equal(before.DiskHits + 1, after.DiskHits);

        // Eviction callbacks run on the thread pool; 21 images went through a 4-image tier.
        WaitFor(() => cache.GetStatistics().MemoryEvictions == 17, "17 RAM evictions");
    }

    [Fact]
    public async Task A_zero_ram_budget_disables_the_ram_tier()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, memoryEntries: 0);
        await cache.PutAsync(Key(1), ImageFor(Key(1)), Ct);
        Assert.True(await cache.TryReadAsync(Key(1), 0, new byte[8], Ct));
        var stats = cache.GetStatistics();
        Assert.Equal((0, 1, 0L), (stats.MemoryHits, stats.DiskHits, stats.MemoryBytes));
    }
}
