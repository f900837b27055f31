using System.Security.Cryptography;
using System.Text;
using S3Block.Cache.Chunks;

namespace S3Block.Tests.Chunks;

/// <summary>Shared helpers: a temp folder per test, deterministic images, and cache options sized in entries.</summary>
internal static class ChunkCacheTestKit
{
    /// <summary>The image size most tests use: small enough to be quick, large enough to span many 4 KiB blocks.</summary>
    public const int ImageSize = 64 << 10;

    /// <summary>File bytes of one <see cref="ImageSize"/> entry (image, 4 KiB header, and a 4-byte CRC per 4 KiB block).</summary>
    public const long EntryBytes = ImageSize + 4096 + (ImageSize / 4096 * 4);

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static string Key(int i) => $"vol1/chunks/{i:x16}/00000002-{i:D20}";

    /// <summary>Bytes that depend on the key and position, so a wrong chunk or a shifted range never looks right.</summary>
    public static byte[] ImageFor(string key, int length = ImageSize)
    {
        var image = new byte[length];
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        for (var i = 0; i < length; i++)
        {
            image[i] = (byte)(seed[i % seed.Length] ^ (i >> 5) ^ (i * 131));
        }

        return image;
    }

    public static ChunkCache Open(
        string folder, long diskEntries = 100, long memoryEntries = 0, int promoteAfter = 0, TimeSpan? stampInterval = null) =>
        ChunkCache.Open(new ChunkCacheOptions
        {
            Folder = folder,
            DiskBudgetBytes = diskEntries * EntryBytes,
            MemoryBudgetBytes = memoryEntries * ImageSize,
            PromoteAfterDiskHits = promoteAfter,
            UseStampInterval = stampInterval ?? TimeSpan.FromMinutes(1),
        });

    /// <summary>The entry files (not temp files) under the cache folder.</summary>
    public static string[] EntryFiles(string folder) =>
        Directory.Exists(folder) ? Directory.GetFiles(folder, "*.chunk", SearchOption.AllDirectories) : [];

    /// <summary>Every file under <paramref name="folder"/> except a cache's lock file (which every open cache holds).</summary>
    public static string[] AllFiles(string folder) =>
        Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != LockFileName).ToArray()
            : [];

    public const string LockFileName = "chunk-cache.lock";

    /// <summary>The single entry file that is not in <paramref name="before"/> (the one a put just created).</summary>
    public static string SingleNewFile(string folder, string[] before) => Assert.Single(EntryFiles(folder).Except(before));

    /// <summary>Waits (bounded) for something that happens on a background thread, such as an eviction callback.</summary>
    public static void WaitFor(Func<bool> condition, string what)
    {
        Assert.True(SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(10)), $"timed out waiting for {what}");
    }
}
