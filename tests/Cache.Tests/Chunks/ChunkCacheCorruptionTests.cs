using S3Block.Cache.Chunks;
using static S3Block.Tests.Chunks.ChunkCacheTestKit;

namespace S3Block.Tests.Chunks;

public sealed class ChunkCacheCorruptionTests
{
    public enum Damage
    {
        FlipDataByte,
        FlipLastDataByte,
        FlipBlockChecksum,
        FlipKeyByte,
        FlipLengthField,
        Truncate,
        TruncateToHeader,
        Extend,
        Garbage,
        Empty,
    }

    /// <summary>Puts one entry with the RAM tier off, damages its file, and returns the cache and the key.</summary>
    private static async Task<(ChunkCache Cache, string Key, string File)> PutAndDamage(string folder, Damage damage)
    {
        var cache = ChunkCacheTestKit.Open(folder);
        var key = Key(1);
        await cache.PutAsync(key, ImageFor(key), Ct);
        var file = Assert.Single(EntryFiles(folder));
        Apply(file, damage);
        return (cache, key, file);
    }

    private static void Apply(string file, Damage damage)
    {
        var bytes = File.ReadAllBytes(file);
        switch (damage)
        {
            case Damage.FlipDataByte: bytes[4096 + 1000] ^= 0x01; break;
            case Damage.FlipLastDataByte: bytes[4096 + ImageSize - 1] ^= 0x80; break;
            case Damage.FlipBlockChecksum: bytes[4096 + ImageSize + 9] ^= 0x02; break;
            case Damage.FlipKeyByte: bytes[32 + 3] ^= 0x20; break;
            case Damage.FlipLengthField: bytes[9] ^= 0x01; break;
            case Damage.Truncate: Array.Resize(ref bytes, bytes.Length - 1); break;
            case Damage.TruncateToHeader: Array.Resize(ref bytes, 4096); break;
            case Damage.Extend: Array.Resize(ref bytes, bytes.Length + 4096); break;
            case Damage.Garbage: new Random(7).NextBytes(bytes); break;
            case Damage.Empty: bytes = []; break;
        }

        File.WriteAllBytes(file, bytes);
    }

    [Theory]
    [InlineData(Damage.FlipDataByte)]
    [InlineData(Damage.FlipLastDataByte)]
    [InlineData(Damage.FlipKeyByte)]
    [InlineData(Damage.FlipLengthField)]
    [InlineData(Damage.Truncate)]
    [InlineData(Damage.TruncateToHeader)]
    [InlineData(Damage.Extend)]
    [InlineData(Damage.Garbage)]
    [InlineData(Damage.Empty)]
    public async Task A_whole_read_of_a_damaged_entry_misses_deletes_it_and_counts_it(Damage damage)
    {
        using var folder = new ChunkTestFolder();
        var (cache, key, file) = await PutAndDamage(folder.Path, damage);
        using (cache)
        {
            Assert.Null(await cache.TryGetWholeAsync(key, Ct));
            AssertDropped(cache, key, file);

            // The volume then fetches from S3 and puts it again.
            Assert.True(await cache.PutAsync(key, ImageFor(key), Ct));
            Assert.Equal(ImageFor(key), await cache.TryGetWholeAsync(key, Ct));
        }
    }

    [Theory]
    [InlineData(Damage.FlipKeyByte)]
    [InlineData(Damage.FlipLengthField)]
    [InlineData(Damage.Truncate)]
    [InlineData(Damage.TruncateToHeader)]
    [InlineData(Damage.Extend)]
    [InlineData(Damage.Garbage)]
    [InlineData(Damage.Empty)]
    [InlineData(Damage.FlipBlockChecksum)]
    public async Task A_ranged_read_detects_a_damaged_header_or_length_even_far_from_the_damage(Damage damage)
    {
        using var folder = new ChunkTestFolder();
        var (cache, key, file) = await PutAndDamage(folder.Path, damage);
        using (cache)
        {
            Assert.False(await cache.TryReadAsync(key, 0, new byte[4096], Ct));
            AssertDropped(cache, key, file);
        }
    }

    [Theory]
    [InlineData(Damage.FlipDataByte)]
    [InlineData(Damage.FlipLastDataByte)]
    public async Task A_ranged_read_of_the_whole_image_checks_the_data_crc(Damage damage)
    {
        using var folder = new ChunkTestFolder();
        var (cache, key, file) = await PutAndDamage(folder.Path, damage);
        using (cache)
        {
            Assert.False(await cache.TryReadAsync(key, 0, new byte[ImageSize], Ct));
            AssertDropped(cache, key, file);
        }
    }

    [Fact]
    public async Task Promotion_to_ram_checks_the_data_crc()
    {
        using var folder = new ChunkTestFolder();
        var (cache, key, file) = await PutAndDamage(folder.Path, Damage.FlipDataByte);
        cache.Dispose();

        // Only the damaged file holds the chunk; the first ranged hit promotes, i.e. reads and checks the whole image.
        using var reopened = ChunkCacheTestKit.Open(folder.Path, memoryEntries: 4, promoteAfter: 1);
        Assert.False(await reopened.TryReadAsync(key, 8192, new byte[4096], Ct));
        AssertDropped(reopened, key, file);
        Assert.Equal(0, reopened.GetStatistics().MemoryEntries);
    }

    [Fact]
    public async Task An_entry_renamed_to_another_keys_name_is_a_miss_for_that_key()
    {
        using var folder = new ChunkTestFolder();
        using var cache = ChunkCacheTestKit.Open(folder.Path);
        string a = Key(1), b = Key(2);
        await cache.PutAsync(a, ImageFor(a), Ct);
        var fileA = Assert.Single(EntryFiles(folder.Path));
        await cache.PutAsync(b, ImageFor(b), Ct);
        var fileB = SingleNewFile(folder.Path, [fileA]);

        File.Copy(fileB, fileA, overwrite: true); // a's name now holds b's valid entry
        Assert.False(await cache.TryReadAsync(a, 0, new byte[16], Ct));
        Assert.Null(await cache.TryGetWholeAsync(a, Ct));
        Assert.Equal(ImageFor(b), await cache.TryGetWholeAsync(b, Ct));
        Assert.Equal(1, cache.GetStatistics().CorruptEntries);
    }

    [Fact]
    public async Task An_entry_deleted_from_outside_is_a_plain_miss()
    {
        using var folder = new ChunkTestFolder();
        using var cache = ChunkCacheTestKit.Open(folder.Path);
        await cache.PutAsync(Key(1), ImageFor(Key(1)), Ct);
        File.Delete(Assert.Single(EntryFiles(folder.Path)));

        Assert.False(await cache.TryReadAsync(Key(1), 0, new byte[16], Ct));
        var stats = cache.GetStatistics();
        Assert.Equal((0, 0L, 0, 1), (stats.DiskEntries, stats.DiskBytes, stats.CorruptEntries, stats.Misses));
    }

    [Fact]
    public async Task Start_up_deletes_entries_that_do_not_verify_and_counts_them()
    {
        using var folder = new ChunkTestFolder();
        var damages = new[] { Damage.Truncate, Damage.Garbage, Damage.FlipKeyByte, Damage.Empty, Damage.Extend };
        var files = new List<string>();
        using (var cache = ChunkCacheTestKit.Open(folder.Path))
        {
            for (var i = 0; i < 8; i++)
            {
                var before = EntryFiles(folder.Path);
                await cache.PutAsync(Key(i), ImageFor(Key(i)), Ct);
                files.Add(SingleNewFile(folder.Path, before));
            }
        }

        for (var i = 0; i < damages.Length; i++)
        {
            Apply(files[i], damages[i]);
        }

        // A valid entry under a name that is not its key's hash.
        var misnamed = Path.Combine(Path.GetDirectoryName(files[7])!, Path.GetFileName(files[7])[..2] + new string('0', 30) + ".chunk");
        File.Copy(files[7], misnamed);

        using var reopened = ChunkCacheTestKit.Open(folder.Path);
        Assert.Equal(damages.Length + 1, reopened.StartupReport.CorruptEntriesDeleted);
        Assert.Equal(3, reopened.StartupReport.Entries);
        Assert.Equal(damages.Length + 1, reopened.GetStatistics().CorruptEntries);
        Assert.False(File.Exists(misnamed));
        Assert.Equal(3, EntryFiles(folder.Path).Length);
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(i >= damages.Length, await reopened.TryGetWholeAsync(Key(i), Ct) is { } image && image.SequenceEqual(ImageFor(Key(i))));
        }
    }

    private static void AssertDropped(ChunkCache cache, string key, string file)
    {
        Assert.False(File.Exists(file));
        Assert.False(cache.Contains(key));
        var stats = cache.GetStatistics();
        Assert.Equal(1, stats.CorruptEntries);
        Assert.Equal(1, stats.Misses);
        Assert.Equal(0, stats.DiskHits);
        Assert.Equal((0, 0L), (stats.DiskEntries, stats.DiskBytes));
    }
}
