using S3Block.Cache.Chunks;
using static S3Block.Tests.Chunks.ChunkCacheTestKit;

namespace S3Block.Tests.Chunks;

/// <summary>The disk tier keeps recently read entry files open (<see cref="OpenFileCache"/>): bounded, and closed when
/// their entry goes, so a deleted file's space is given back and damage found later still drops the entry.</summary>
public sealed class ChunkCacheOpenFileTests
{
    [Fact]
    public async Task Ranged_reads_keep_the_file_open_and_removing_the_entry_closes_it()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path);
        var key = Key(1);
        var image = ImageFor(key);
        await cache.PutAsync(key, image, Ct);
        Assert.Equal(0, cache.OpenDiskFiles);

        for (var i = 0; i < 3; i++)
        {
            var block = new byte[4096];
            Assert.True(await cache.TryReadAsync(key, 4096L * (i + 1), block, Ct));
            Assert.Equal(image.AsSpan(4096 * (i + 1), 4096).ToArray(), block);
        }

        Assert.Equal(1, cache.OpenDiskFiles);
        Assert.True(cache.Remove(key));
        Assert.Equal(0, cache.OpenDiskFiles);
        Assert.False(await cache.TryReadAsync(key, 0, new byte[4096], Ct));
    }

    [Fact]
    public async Task Eviction_closes_the_evicted_entrys_file()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path, diskEntries: 2);
        await cache.PutAsync(Key(1), ImageFor(Key(1)), Ct);
        Assert.True(await cache.TryReadAsync(Key(1), 0, new byte[512], Ct));
        Assert.Equal(1, cache.OpenDiskFiles);

        await cache.PutAsync(Key(2), ImageFor(Key(2)), Ct);
        await cache.PutAsync(Key(3), ImageFor(Key(3)), Ct); // evicts key 1, the least recently used

        Assert.False(cache.Contains(Key(1)));
        Assert.Equal(0, cache.OpenDiskFiles);
    }

    [Fact]
    public async Task At_most_MaxOpenFiles_stay_open_and_every_read_is_still_right()
    {
        using var folder = new ChunkTestFolder();
        var entries = DiskTier.MaxOpenFiles + 8;
        using var cache = Open(folder.Path, diskEntries: entries);
        for (var i = 0; i < entries; i++)
        {
            await cache.PutAsync(Key(i), ImageFor(Key(i)), Ct);
        }

        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < entries; i++)
            {
                var block = new byte[4096];
                Assert.True(await cache.TryReadAsync(Key(i), 8192, block, Ct));
                Assert.Equal(ImageFor(Key(i)).AsSpan(8192, 4096).ToArray(), block);
            }
        }

        Assert.Equal(DiskTier.MaxOpenFiles, cache.OpenDiskFiles);
    }

    [Fact]
    public async Task A_file_truncated_while_open_is_a_miss_and_drops_the_entry()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path);
        var key = Key(1);
        var file = await PutAndReadOnceAsync(cache, folder.Path, key);

        using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(stream.Length - 4096); // the same inode the open handle reads
        }

        Assert.False(await cache.TryReadAsync(key, ImageSize - 4096, new byte[4096], Ct));
        Assert.False(cache.Contains(key));
        Assert.Equal(0, cache.OpenDiskFiles);
        Assert.Equal(1, cache.GetStatistics().CorruptEntries);
    }

    [Fact]
    public async Task A_whole_image_read_through_an_open_file_still_checks_the_crc()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path);
        var key = Key(1);
        var file = await PutAndReadOnceAsync(cache, folder.Path, key);

        FlipInPlace(file, 4096 + ImageSize - 1); // the last data byte

        Assert.False(await cache.TryReadAsync(key, 0, new byte[ImageSize], Ct));
        Assert.False(cache.Contains(key));
        Assert.Equal(0, cache.OpenDiskFiles);
        Assert.Equal(1, cache.GetStatistics().ChecksumMismatches);
    }

    [Fact]
    public async Task A_flipped_data_byte_is_caught_by_a_4_KiB_read_of_its_block_through_an_already_open_file()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path);
        var key = Key(1);
        var file = await PutAndReadOnceAsync(cache, folder.Path, key);
        FlipInPlace(file, 4096 + (5 * 4096) + 77); // block 5; the table in memory still holds the right CRC

        // Another block still reads right: each block is checked on its own.
        var block = new byte[4096];
        Assert.True(await cache.TryReadAsync(key, 4 * 4096, block, Ct));
        Assert.Equal(ImageFor(key).AsSpan(4 * 4096, 4096).ToArray(), block);

        Assert.False(await cache.TryReadAsync(key, 5 * 4096, block, Ct));
        Assert.False(cache.Contains(key));
        Assert.Equal(0, cache.OpenDiskFiles);
        Assert.False(File.Exists(file));
        Assert.Equal((1L, 1L), (cache.GetStatistics().ChecksumMismatches, cache.GetStatistics().CorruptEntries));
    }

    /// <summary>Flips one byte of <paramref name="file"/> in place, so a handle the cache holds open sees it.</summary>
    private static void FlipInPlace(string file, long position)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = position;
        var old = stream.ReadByte();
        stream.Position = position;
        stream.WriteByte((byte)(old ^ 0x80));
    }

    /// <summary>Puts <paramref name="key"/> and reads from it once, which leaves its file open; returns the file.</summary>
    private static async Task<string> PutAndReadOnceAsync(ChunkCache cache, string folder, string key)
    {
        await cache.PutAsync(key, ImageFor(key), Ct);
        Assert.True(await cache.TryReadAsync(key, 0, new byte[4096], Ct));
        Assert.Equal(1, cache.OpenDiskFiles);
        return Assert.Single(EntryFiles(folder));
    }
}
