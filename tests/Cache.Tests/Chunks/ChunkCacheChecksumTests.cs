using S3Block.Cache.Chunks;
using static S3Block.Tests.Chunks.ChunkCacheTestKit;

namespace S3Block.Tests.Chunks;

/// <summary>
/// Entry format version 2: a ranged disk hit checks the CRC32C of every 4 KiB block it touches, a whole read checks the
/// data CRC, an entry of another key (e.g. another volume id) or of format version 1 is a miss. A mismatch is a miss,
/// never data: the entry is deleted and counted.
/// </summary>
public sealed class ChunkCacheChecksumTests(ITestOutputHelper output)
{
    private const int DamagedBlock = 5;
    private const long DamagedByte = (DamagedBlock * 4096) + 100;

    public static TheoryData<long, int> RangesTouchingTheDamagedBlock => new()
    {
        { DamagedBlock * 4096, 4096 },          // the block, aligned
        { DamagedByte, 1 },                     // the flipped byte alone
        { (DamagedBlock * 4096) + 2000, 512 },  // inside the block, not over the byte: the whole block is checked
        { (4 * 4096) + 4000, 200 },             // unaligned, from block 4 into block 5
        { 3 * 4096, 3 * 4096 },                 // whole blocks 3..5
        { (DamagedBlock * 4096) + 4095, 4097 }, // the last byte of block 5 and all of block 6
        { 0, ImageSize },                       // the whole image as a range
    };

    [Theory]
    [MemberData(nameof(RangesTouchingTheDamagedBlock))]
    public async Task A_ranged_read_touching_a_block_with_a_flipped_data_byte_is_a_miss_drops_the_entry_and_counts_a_checksum_mismatch(long offset, int length)
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path);
        var key = Key(1);
        await cache.PutAsync(key, ImageFor(key), Ct);
        var file = Assert.Single(EntryFiles(folder.Path));
        Flip(file, 4096 + DamagedByte);

        Assert.False(await cache.TryReadAsync(key, offset, new byte[length], Ct));

        Assert.False(File.Exists(file));
        Assert.False(cache.Contains(key));
        var stats = cache.GetStatistics();
        Assert.Equal((1L, 1L, 1L, 0L), (stats.ChecksumMismatches, stats.CorruptEntries, stats.Misses, stats.DiskHits));
    }

    [Theory]
    [InlineData(0L, 4096)]
    [InlineData(4 * 4096L, 4096)]
    [InlineData((4 * 4096L) + 1, 4095)]  // ends exactly where the damaged block starts
    [InlineData(6 * 4096L, 10)]          // starts exactly where it ends
    [InlineData(6 * 4096L, ImageSize - (6 * 4096))]
    public async Task A_ranged_read_of_blocks_without_damage_still_hits_with_the_right_bytes(long offset, int length)
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path);
        var key = Key(1);
        await cache.PutAsync(key, ImageFor(key), Ct);
        Flip(Assert.Single(EntryFiles(folder.Path)), 4096 + DamagedByte);

        var buffer = new byte[length];
        Assert.True(await cache.TryReadAsync(key, offset, buffer, Ct));
        Assert.Equal(ImageFor(key).AsSpan((int)offset, length).ToArray(), buffer);
        Assert.Equal(0, cache.GetStatistics().ChecksumMismatches);
    }

    [Fact]
    public async Task A_whole_read_of_an_entry_with_a_flipped_data_byte_is_a_miss_and_counts_a_checksum_mismatch()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path);
        var key = Key(1);
        await cache.PutAsync(key, ImageFor(key), Ct);
        var file = Assert.Single(EntryFiles(folder.Path));
        Flip(file, 4096 + DamagedByte);

        Assert.Null(await cache.TryGetWholeAsync(key, Ct));
        Assert.False(File.Exists(file));
        Assert.Equal((1L, 1L), (cache.GetStatistics().ChecksumMismatches, cache.GetStatistics().CorruptEntries));
    }

    [Fact]
    public async Task A_damaged_block_checksum_table_makes_a_ranged_read_miss_and_drops_the_entry()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path);
        var key = Key(1);
        await cache.PutAsync(key, ImageFor(key), Ct);
        var file = Assert.Single(EntryFiles(folder.Path));
        Flip(file, 4096 + ImageSize + (3 * 4) + 1); // the CRC of block 3

        Assert.False(await cache.TryReadAsync(key, 0, new byte[4096], Ct)); // block 0: the table is checked whole at open
        Assert.False(File.Exists(file));
        Assert.Equal((1L, 1L), (cache.GetStatistics().ChecksumMismatches, cache.GetStatistics().CorruptEntries));
    }

    /// <summary>
    /// Random ranges over an image whose last block is short (the last chunk of a volume can be any multiple of 512
    /// bytes) with one random block damaged: a read hits, with exactly the image's bytes, if and only if it avoids the
    /// damaged block; once a read has touched it, every later read misses (the entry is gone).
    /// </summary>
    [Fact]
    public async Task Random_ranges_over_an_image_with_a_short_last_block_hit_exactly_when_they_avoid_the_damaged_block()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        for (var round = 0; round < 20; round++)
        {
            using var folder = new ChunkTestFolder();
            using var cache = Open(folder.Path);
            var key = Key(round);
            var length = ImageSize - (512 * random.Next(0, 8));
            var image = ImageFor(key, length);
            await cache.PutAsync(key, image, Ct);
            var blocks = (length + 4095) / 4096;
            var damaged = random.Next(blocks);
            var damagedAt = (damaged * 4096) + random.Next(Math.Min(4096, length - (damaged * 4096)));
            Flip(Assert.Single(EntryFiles(folder.Path)), 4096 + damagedAt);

            var dropped = false;
            for (var read = 0; read < 30; read++)
            {
                var offset = random.Next(length);
                var count = 1 + random.Next(Math.Min(length - offset, random.Next(2) == 0 ? 600 : 3 * 4096));
                var touches = offset / 4096 <= damaged && damaged <= (offset + count - 1) / 4096;
                var buffer = new byte[count];
                var hit = await cache.TryReadAsync(key, offset, buffer, Ct);
                Assert.True(hit == (!touches && !dropped), $"seed {seed}, round {round}: [{offset}, +{count}) of {length}, damaged block {damaged}, hit {hit}");
                if (hit)
                {
                    Assert.Equal(image.AsSpan(offset, count).ToArray(), buffer);
                }

                dropped |= touches;
            }

            Assert.Equal(dropped ? 1 : 0, cache.GetStatistics().ChecksumMismatches);
        }
    }

    [Fact]
    public async Task An_entry_for_another_volume_id_under_this_keys_name_is_a_miss_and_is_dropped()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path);
        const string ObjectKey = "vol/chunks/0000000000000000/00000001-00000000000000000002";
        string ours = $"{Guid.NewGuid():N}/{ObjectKey}", theirs = $"{Guid.NewGuid():N}/{ObjectKey}";
        await cache.PutAsync(ours, ImageFor(ours), Ct);
        var ourFile = Assert.Single(EntryFiles(folder.Path));
        await cache.PutAsync(theirs, ImageFor(theirs), Ct);
        var theirFile = SingleNewFile(folder.Path, [ourFile]);

        File.Copy(theirFile, ourFile, overwrite: true); // our name now holds the other volume's valid entry
        Assert.False(await cache.TryReadAsync(ours, 0, new byte[4096], Ct));
        Assert.False(cache.Contains(ours));
        Assert.False(File.Exists(ourFile));
        Assert.Equal(1, cache.GetStatistics().CorruptEntries);
        Assert.Equal(ImageFor(theirs), await cache.TryGetWholeAsync(theirs, Ct));
    }

    [Fact]
    public async Task An_entry_file_of_format_version_1_is_deleted_at_start_up_unread_and_its_key_is_a_miss()
    {
        using var folder = new ChunkTestFolder();
        var key = Key(1);
        var image = ImageFor(key);
        using (Open(folder.Path))
        {
            // Only creates the folder.
        }

        // Exactly what version 1 wrote: its header, then the image, nothing after it.
        var path = ChunkFileName.EntryPath(Path.GetFullPath(folder.Path), ChunkKey.From(key).Digest);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var header = ChunkFileFormatTests.V1Header(System.Text.Encoding.UTF8.GetBytes(key), image.Length, S3Block.Cache.Integrity.Crc32C.Compute(image));
        File.WriteAllBytes(path, [.. header, .. image]);

        using var cache = Open(folder.Path);
        Assert.Equal((1, 0, 0), (cache.StartupReport.OldFormatEntriesDeleted, cache.StartupReport.CorruptEntriesDeleted, cache.StartupReport.Entries));
        Assert.False(File.Exists(path));
        Assert.False(await cache.TryReadAsync(key, 0, new byte[4096], Ct));
        Assert.Null(await cache.TryGetWholeAsync(key, Ct));
        Assert.Equal(0, cache.GetStatistics().CorruptEntries);

        // The volume then fetches the chunk and puts it again, in the current format.
        Assert.True(await cache.PutAsync(key, image, Ct));
        Assert.Equal(image, await cache.TryGetWholeAsync(key, Ct));
    }

    private static void Flip(string file, long position)
    {
        var bytes = File.ReadAllBytes(file);
        bytes[position] ^= 0x10;
        File.WriteAllBytes(file, bytes);
    }
}
