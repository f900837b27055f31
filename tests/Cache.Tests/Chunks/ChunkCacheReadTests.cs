using static S3Block.Tests.Chunks.ChunkCacheTestKit;

namespace S3Block.Tests.Chunks;

public sealed class ChunkCacheReadTests
{
    [Theory]
    [InlineData(0)] // disk tier only
    [InlineData(4)] // RAM tier in front
    public async Task Whole_image_round_trips(int memoryEntries)
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, memoryEntries: memoryEntries);
        var key = Key(1);
        var image = ImageFor(key);

        Assert.True(await cache.PutAsync(key, image, Ct));
        Assert.True(cache.Contains(key));

        var back = await cache.TryGetWholeAsync(key, Ct);
        Assert.Equal(image, back);
        var stats = cache.GetStatistics();
        Assert.Equal(memoryEntries > 0 ? 1 : 0, stats.MemoryHits);
        Assert.Equal(memoryEntries > 0 ? 0 : 1, stats.DiskHits);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_RAM_tier_keeps_an_immutable_image_itself_and_a_copy_of_any_other(bool immutable)
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, memoryEntries: 4);
        var key = Key(3);
        var image = ImageFor(key);
        var original = image[100];
        Assert.True(immutable ? await cache.PutImmutableAsync(key, image, Ct) : await cache.PutAsync(key, image, Ct));

        // A change behind the cache's back (which PutImmutableAsync's contract forbids) shows whether it kept the array.
        image[100] ^= 0xFF;
        var back = new byte[1];
        Assert.True(await cache.TryReadAsync(key, 100, back, Ct));
        Assert.Equal(immutable ? image[100] : original, back[0]);
        Assert.Equal(1, cache.GetStatistics().MemoryHits);
    }

    [Fact]
    public async Task PutImmutableAsync_holds_the_image_in_the_RAM_tier_before_its_first_await_returns_to_the_caller()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, diskEntries: 10, memoryEntries: 3);
        var key = Key(4);
        var image = ImageFor(key);

        var put = cache.PutImmutableAsync(key, image, Ct); // not awaited yet: a reader's fetch goes on from here
        var back = new byte[16];
        Assert.True(await cache.TryReadAsync(key, 64, back, Ct));
        Assert.Equal(image.AsSpan(64, 16).ToArray(), back);
        Assert.Equal(1, cache.GetStatistics().MemoryHits);

        Assert.True(await put);
        Assert.Equal(1, cache.GetStatistics().DiskEntries);
    }

    [Fact]
    public void The_statistics_carry_both_budgets()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, diskEntries: 10, memoryEntries: 3);
        var stats = cache.GetStatistics();
        Assert.Equal(3L * ImageSize, stats.MemoryBudgetBytes);
        Assert.Equal(10L * EntryBytes, stats.DiskBudgetBytes);
    }

    public static TheoryData<int, long, int> Ranges => new()
    {
        { 0, 0, 1 },                       // first byte
        { 0, ImageSize - 1, 1 },           // last byte
        { 0, 4096 * 5, 4096 },             // an aligned block in the middle
        { 0, 12345, 7777 },                // unaligned, spanning blocks
        { 0, ImageSize - 4096, 4096 },     // the last block
        { 0, 0, ImageSize },               // the whole image as a range (CRC checked)
        { 4, 0, 1 },
        { 4, ImageSize - 1, 1 },
        { 4, 12345, 7777 },
        { 4, 0, ImageSize },
    };

    [Theory]
    [MemberData(nameof(Ranges))]
    public async Task Ranged_reads_return_exactly_the_requested_bytes(int memoryEntries, long offset, int length)
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, memoryEntries: memoryEntries);
        var key = Key(2);
        var image = ImageFor(key);
        await cache.PutAsync(key, image, Ct);

        // Guard bytes around the destination must stay untouched.
        var buffer = new byte[length + 2];
        buffer[0] = 0xEE;
        buffer[^1] = 0xEE;
        Assert.True(await cache.TryReadAsync(key, offset, buffer.AsMemory(1, length), Ct));
        Assert.Equal(image.AsSpan((int)offset, length), buffer.AsSpan(1, length));
        Assert.Equal(0xEE, buffer[0]);
        Assert.Equal(0xEE, buffer[^1]);
    }

    [Fact]
    public async Task A_ranged_disk_read_reads_the_header_and_the_range_not_the_whole_file()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path);
        var key = Key(3);
        await cache.PutAsync(key, ImageFor(key), Ct);

        var before = cache.GetStatistics().DiskBytesRead;
        Assert.True(await cache.TryReadAsync(key, 8192, new byte[4096], Ct));
        var read = cache.GetStatistics().DiskBytesRead - before;
        // The range, the fixed header fields and the key, and the block checksum table (once, when the file is opened).
        Assert.Equal(4096 + 32 + key.Length + (ImageSize / 4096 * 4), read);

        before = cache.GetStatistics().DiskBytesRead;
        Assert.True(await cache.TryReadAsync(key, 16384, new byte[4096], Ct));
        Assert.Equal(4096, cache.GetStatistics().DiskBytesRead - before); // the file is open now: the range alone
    }

    [Fact]
    public async Task Ram_hits_and_disk_hits_and_misses_are_counted_separately()
    {
        using var folder = new ChunkTestFolder();
        var key = Key(4);
        using (var cache = Open(folder.Path))
        {
            await cache.PutAsync(key, ImageFor(key), Ct); // leaves a file for the next instance
        }

        // A new instance has the entry on disk only; a put of another key goes to both tiers.
        using var reopened = Open(folder.Path, memoryEntries: 4);
        var hot = Key(5);
        await reopened.PutAsync(hot, ImageFor(hot), Ct);

        var block = new byte[4096];
        Assert.True(await reopened.TryReadAsync(hot, 0, block, Ct));
        Assert.True(await reopened.TryReadAsync(key, 0, block, Ct));
        Assert.True(await reopened.TryReadAsync(key, 4096, block, Ct));
        Assert.False(await reopened.TryReadAsync(Key(6), 0, block, Ct));
        Assert.Null(await reopened.TryGetWholeAsync(Key(6), Ct));

        var stats = reopened.GetStatistics();
        Assert.Equal(1, stats.MemoryHits);
        Assert.Equal(2, stats.DiskHits);
        Assert.Equal(2, stats.Misses);
        Assert.Equal(1, stats.MemoryEntries);
        Assert.Equal(ImageSize, stats.MemoryBytes);
        Assert.Equal(2, stats.DiskEntries);
        Assert.Equal(2 * EntryBytes, stats.DiskBytes);
    }

    [Fact]
    public async Task A_chunk_read_in_ranges_from_disk_is_promoted_to_ram_after_the_configured_hits()
    {
        using var folder = new ChunkTestFolder();
        var key = Key(7);
        var image = ImageFor(key);
        using (var cache = Open(folder.Path))
        {
            await cache.PutAsync(key, image, Ct);
        }

        using var reopened = Open(folder.Path, memoryEntries: 4, promoteAfter: 3);
        var block = new byte[4096];
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await reopened.TryReadAsync(key, i * 4096L, block, Ct));
            Assert.Equal(image.AsSpan(i * 4096, 4096).ToArray(), block);
        }

        Assert.Equal((0, 3), (reopened.GetStatistics().MemoryHits, reopened.GetStatistics().DiskHits));
        Assert.Equal(1, reopened.GetStatistics().MemoryEntries); // the third hit loaded the whole image

        Assert.True(await reopened.TryReadAsync(key, 40960, block, Ct));
        Assert.Equal(image.AsSpan(40960, 4096).ToArray(), block);
        Assert.Equal(1, reopened.GetStatistics().MemoryHits);
    }

    [Fact]
    public async Task Whole_reads_do_not_promote_because_their_generation_is_about_to_be_replaced()
    {
        using var folder = new ChunkTestFolder();
        var key = Key(8);
        using (var cache = Open(folder.Path))
        {
            await cache.PutAsync(key, ImageFor(key), Ct);
        }

        using var reopened = Open(folder.Path, memoryEntries: 4, promoteAfter: 1);
        Assert.NotNull(await reopened.TryGetWholeAsync(key, Ct));
        Assert.Equal(0, reopened.GetStatistics().MemoryEntries);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public async Task The_whole_image_handed_out_is_the_callers_own_copy(int memoryEntries)
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, memoryEntries: memoryEntries);
        var key = Key(9);
        var image = ImageFor(key);
        await cache.PutAsync(key, image, Ct);
        image[0] ^= 0xFF; // the caller's buffer is not the cache's either

        var first = await cache.TryGetWholeAsync(key, Ct);
        first![0] ^= 0xFF; // a read-modify-write in progress

        var second = await cache.TryGetWholeAsync(key, Ct);
        Assert.Equal(ImageFor(key), second);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public async Task A_range_outside_the_image_is_an_argument_error(int memoryEntries)
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, memoryEntries: memoryEntries);
        var key = Key(10);
        await cache.PutAsync(key, ImageFor(key), Ct);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await cache.TryReadAsync(key, ImageSize - 100, new byte[4096], Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await cache.TryReadAsync(key, -1, new byte[1], Ct));
        Assert.True(await cache.TryReadAsync(key, ImageSize, Memory<byte>.Empty, Ct)); // empty range at the end is fine
    }

    [Fact]
    public async Task Remove_drops_both_tiers_and_deletes_the_file()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, memoryEntries: 4);
        var key = Key(11);
        await cache.PutAsync(key, ImageFor(key), Ct);
        Assert.Single(EntryFiles(folder.Path));

        Assert.True(cache.Remove(key));
        Assert.False(cache.Contains(key));
        Assert.False(await cache.TryReadAsync(key, 0, new byte[10], Ct));
        Assert.Empty(EntryFiles(folder.Path));
        Assert.Equal(0, cache.GetStatistics().DiskBytes);
        Assert.False(cache.Remove(key));
    }

    [Fact]
    public async Task Putting_a_key_again_is_a_no_op()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, memoryEntries: 4);
        var key = Key(12);
        Assert.True(await cache.PutAsync(key, ImageFor(key), Ct));
        var written = cache.GetStatistics().DiskBytesWritten;

        Assert.True(await cache.PutAsync(key, ImageFor(key), Ct));
        var stats = cache.GetStatistics();
        Assert.Equal(written, stats.DiskBytesWritten);
        Assert.Equal((1, EntryBytes, 1, (long)ImageSize), (stats.DiskEntries, stats.DiskBytes, stats.MemoryEntries, stats.MemoryBytes));
    }

    [Fact]
    public async Task Images_of_any_length_round_trip_including_empty()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path);
        foreach (var length in new[] { 0, 1, 7, 8, 9, 4095, 4097, 100_003 })
        {
            var key = $"odd/{length}";
            var image = ImageFor(key, length);
            Assert.True(await cache.PutAsync(key, image, Ct));
            Assert.Equal(image, await cache.TryGetWholeAsync(key, Ct));
        }
    }

    [Fact]
    public async Task A_disposed_cache_refuses_calls_and_leaves_its_files()
    {
        using var folder = new ChunkTestFolder();
        var cache = Open(folder.Path, memoryEntries: 2);
        await cache.PutAsync(Key(13), ImageFor(Key(13)), Ct);
        cache.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.Contains(Key(13)));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await cache.TryReadAsync(Key(13), 0, new byte[1], Ct));
        Assert.Single(EntryFiles(folder.Path));
    }
}
