using System.Security.Cryptography;
using System.Text;
using static S3Block.Tests.Chunks.ChunkCacheTestKit;

namespace S3Block.Tests.Chunks;

public sealed class ChunkCacheFailureTests
{
    [Fact]
    public async Task A_cancelled_put_leaves_no_file_and_releases_its_room()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, diskEntries: 1);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cache.PutAsync(Key(1), ImageFor(Key(1)), cancelled.Token));
        Assert.Empty(AllFiles(folder.Path));
        Assert.False(cache.Contains(Key(1)));

        // The one-entry budget is free again.
        Assert.True(await cache.PutAsync(Key(2), ImageFor(Key(2)), Ct));
        Assert.Equal((1, EntryBytes), (cache.GetStatistics().DiskEntries, cache.GetStatistics().DiskBytes));
    }

    [Fact]
    public async Task A_failing_disk_write_is_counted_not_thrown_and_the_ram_tier_still_serves()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, diskEntries: 1, memoryEntries: 2);
        var key = Key(1);

        // Block the key's shard folder with a plain file, so creating the entry file fails with an I/O error.
        var shard = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..2];
        File.WriteAllText(Path.Combine(folder.Path, shard), "in the way");

        Assert.False(await cache.PutAsync(key, ImageFor(key), Ct));
        var stats = cache.GetStatistics();
        Assert.Equal((1, 1, 0), (stats.DiskWriteErrors, stats.DiskPutsSkipped, stats.DiskEntries));
        Assert.Equal(ImageFor(key), await cache.TryGetWholeAsync(key, Ct));

        // Its reservation was released: another key still fits the one-entry budget.
        var other = Enumerable.Range(2, 100).Select(Key)
            .First(k => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(k)))[..2] != shard);
        Assert.True(await cache.PutAsync(other, ImageFor(other), Ct));
    }
}
