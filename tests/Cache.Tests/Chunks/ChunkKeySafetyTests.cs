using static S3Block.Tests.Chunks.ChunkCacheTestKit;

namespace S3Block.Tests.Chunks;

public sealed class ChunkKeySafetyTests
{
    public static TheoryData<string> HostileKeys => new()
    {
        "vol1/chunks/00000000000003a1/00000002-00000000000000000017",
        "../../../../etc/passwd",
        "..",
        "/",
        "/absolute/path",
        "a\\b\\..\\..\\c",
        "~/x",
        "con",
        "name\0with-nul",
        "tab\tnew\nline",
        "数据块/キー/🙂",
        "e\u0301", // combining accent: not normalized, a different key from "é"
        "é",
        new string('x', 1024),
    };

    [Theory]
    [MemberData(nameof(HostileKeys))]
    public async Task Keys_never_become_paths_and_round_trip(string key)
    {
        using var folder = new ChunkTestFolder();
        using (var cache = Open(folder.Path))
        {
            Assert.True(await cache.PutAsync(key, ImageFor(key), Ct));
            Assert.Equal(ImageFor(key), await cache.TryGetWholeAsync(key, Ct));
        }

        // Only one entry file, under the cache folder, in a hex shard, with a hex name; nothing beside the folder
        // except the cache's own lock file.
        var file = Assert.Single(AllFiles(folder.Root));
        Assert.Equal([Path.Combine(folder.Path, LockFileName)], Directory.GetFiles(folder.Root, LockFileName, SearchOption.AllDirectories));
        var relative = Path.GetRelativePath(folder.Path, file);
        Assert.Matches("^[0-9a-f]{2}/[0-9a-f]{32}\\.chunk$", relative);
        Assert.StartsWith(relative[..2], Path.GetFileName(file), StringComparison.Ordinal);

        using var reopened = Open(folder.Path);
        Assert.Equal(ImageFor(key), await reopened.TryGetWholeAsync(key, Ct));
    }

    [Fact]
    public async Task Similar_keys_are_different_entries()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path);
        var keys = new[] { "é", "e\u0301", "a/b", "a\\b", "a/b/", "A/b" };
        foreach (var key in keys)
        {
            await cache.PutAsync(key, ImageFor(key), Ct);
        }

        Assert.Equal(keys.Length, EntryFiles(folder.Path).Length);
        foreach (var key in keys)
        {
            Assert.Equal(ImageFor(key), await cache.TryGetWholeAsync(key, Ct));
        }
    }

    [Fact]
    public async Task Invalid_keys_are_argument_errors()
    {
        using var folder = new ChunkTestFolder();
        using var cache = Open(folder.Path);
        await Assert.ThrowsAsync<ArgumentException>(async () => await cache.PutAsync("", new byte[1], Ct));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.PutAsync(null!, new byte[1], Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await cache.PutAsync(new string('x', 1025), new byte[1], Ct));
        await Assert.ThrowsAsync<ArgumentException>(async () => await cache.PutAsync(new string('é', 513), new byte[1], Ct)); // 1026 UTF-8 bytes
        await Assert.ThrowsAsync<ArgumentException>(async () => await cache.TryReadAsync("lone\ud800surrogate", 0, new byte[1], Ct));
        Assert.Empty(AllFiles(folder.Root));
    }
}
