using static S3Block.Tests.Chunks.ChunkCacheTestKit;

namespace S3Block.Tests.Chunks;

public sealed class ChunkCacheRestartTests
{
    [Fact]
    public async Task A_new_instance_over_the_same_folder_serves_the_entries()
    {
        using var folder = new ChunkTestFolder();
        var keys = Enumerable.Range(0, 10).Select(Key).ToArray();
        using (var cache = Open(folder.Path))
        {
            foreach (var key in keys)
            {
                await cache.PutAsync(key, ImageFor(key), Ct);
            }
        }

        using var reopened = Open(folder.Path, memoryEntries: 4);
        Assert.Equal(10, reopened.StartupReport.Entries);
        Assert.Equal(10 * EntryBytes, reopened.StartupReport.Bytes);
        Assert.Equal((0, 0, 0), (reopened.StartupReport.TempFilesDeleted, reopened.StartupReport.CorruptEntriesDeleted, reopened.StartupReport.EvictedOverBudget));
        foreach (var key in keys)
        {
            Assert.True(reopened.Contains(key));
            var block = new byte[4096];
            Assert.True(await reopened.TryReadAsync(key, 8192, block, Ct));
            Assert.Equal(ImageFor(key).AsSpan(8192, 4096).ToArray(), block);
            Assert.Equal(ImageFor(key), await reopened.TryGetWholeAsync(key, Ct));
        }

        Assert.Equal(20, reopened.GetStatistics().DiskHits);
    }

    [Fact]
    public async Task Start_up_deletes_leftover_temp_files_and_leaves_foreign_files_alone()
    {
        using var folder = new ChunkTestFolder();
        using (var cache = Open(folder.Path))
        {
            await cache.PutAsync(Key(1), ImageFor(Key(1)), Ct);
        }

        // What a crash mid-put leaves, next to files the cache did not create.
        var entry = Assert.Single(EntryFiles(folder.Path));
        var shard = Path.GetDirectoryName(entry)!;
        var hex = Path.GetFileNameWithoutExtension(entry);
        var temp = Path.Combine(shard, $"{hex}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(temp, new byte[5000]);
        var foreign = new[]
        {
            Path.Combine(folder.Path, "README"),
            Path.Combine(shard, "notes.txt"),
            Path.Combine(folder.Path, "other", hex + ".chunk"),
            Path.Combine(shard, hex.ToUpperInvariant() + ".chunk"),
        };
        foreach (var path in foreign)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "not the cache's");
        }

        using var reopened = Open(folder.Path);
        Assert.Equal(1, reopened.StartupReport.TempFilesDeleted);
        Assert.Equal(1, reopened.StartupReport.Entries);
        Assert.False(File.Exists(temp));
        Assert.All(foreign, path => Assert.True(File.Exists(path), path));
        Assert.True(await reopened.TryReadAsync(Key(1), 0, new byte[100], Ct));
    }

    [Fact]
    public async Task A_smaller_budget_at_start_up_keeps_the_most_recently_used_entries()
    {
        using var folder = new ChunkTestFolder();
        var keys = Enumerable.Range(0, 6).Select(Key).ToArray();
        var files = new Dictionary<string, string>();
        using (var cache = Open(folder.Path))
        {
            foreach (var key in keys)
            {
                var before = EntryFiles(folder.Path);
                await cache.PutAsync(key, ImageFor(key), Ct);
                files[key] = SingleNewFile(folder.Path, before);
            }
        }

        // The file mtime is the "last used" stamp; make the order explicit: key 5 oldest ... key 0 newest.
        var now = DateTime.UtcNow;
        for (var i = 0; i < keys.Length; i++)
        {
            File.SetLastWriteTimeUtc(files[keys[i]], now.AddMinutes(-i));
        }

        using var reopened = Open(folder.Path, diskEntries: 4);
        Assert.Equal(2, reopened.StartupReport.EvictedOverBudget);
        Assert.Equal(4 * EntryBytes, reopened.StartupReport.Bytes);
        Assert.False(reopened.Contains(keys[5]));
        Assert.False(reopened.Contains(keys[4]));
        Assert.True(keys[..4].All(reopened.Contains));
        Assert.Equal(4, EntryFiles(folder.Path).Length);
        Assert.Equal(2, reopened.GetStatistics().DiskEvictions);

        // The LRU order continues from the stamps: the next put evicts key 3, the oldest left.
        await reopened.PutAsync(Key(9), ImageFor(Key(9)), Ct);
        Assert.False(reopened.Contains(keys[3]));
    }

    [Fact]
    public async Task Reads_stamp_the_file_so_the_lru_order_survives_a_restart()
    {
        using var folder = new ChunkTestFolder();
        string a = Key(1), b = Key(2), c = Key(3);
        var files = new Dictionary<string, string>();
        using (var cache = Open(folder.Path, stampInterval: TimeSpan.Zero))
        {
            foreach (var key in new[] { a, b, c })
            {
                var before = EntryFiles(folder.Path);
                await cache.PutAsync(key, ImageFor(key), Ct);
                files[key] = SingleNewFile(folder.Path, before);
                File.SetLastWriteTimeUtc(files[key], DateTime.UtcNow.AddHours(-1)); // all written long ago
            }

            File.SetLastWriteTimeUtc(files[c], DateTime.UtcNow.AddHours(-2)); // c oldest, then a, then b
            Assert.True(await cache.TryReadAsync(a, 0, new byte[8], Ct));    // a used just now
        }

        Assert.True(File.GetLastWriteTimeUtc(files[a]) > DateTime.UtcNow.AddMinutes(-5));
        using var reopened = Open(folder.Path, diskEntries: 1);
        Assert.True(reopened.Contains(a));
        Assert.False(reopened.Contains(b) || reopened.Contains(c));
    }

    [Fact]
    public async Task Stamps_are_throttled_to_the_configured_interval()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path); // default: at most once a minute
        await cache.PutAsync(Key(1), ImageFor(Key(1)), Ct);
        var file = Assert.Single(EntryFiles(folder.Path));
        var old = DateTime.UtcNow.AddHours(-1);
        File.SetLastWriteTimeUtc(file, old);

        Assert.True(await cache.TryReadAsync(Key(1), 0, new byte[8], Ct)); // used within the minute after the put
        Assert.Equal(old, File.GetLastWriteTimeUtc(file));
    }

    [Fact]
    public async Task A_second_cache_over_an_open_folder_is_refused_until_the_first_is_disposed()
    {
        using var folder = new ChunkTestFolder();
        var first = Open(folder.Path);
        await first.PutAsync(Key(1), ImageFor(Key(1)), Ct);

        var refused = Assert.Throws<IOException>(() => Open(folder.Path, diskEntries: 1));
        Assert.Contains("in use by another cache", refused.Message, StringComparison.Ordinal);
        Assert.True(await first.TryReadAsync(Key(1), 0, new byte[8], Ct)); // untouched by the refused open

        first.Dispose();
        using var second = Open(folder.Path);
        Assert.True(second.Contains(Key(1)));
    }
}
