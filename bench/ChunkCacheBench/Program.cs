using System.Diagnostics;
using S3Block.Cache.Chunks;

// The clean-chunk cache against the same disk's plain file I/O, in one run, as ratios:
//   4 KiB ranged reads (disk tier, RAM tier) vs pread of 4 KiB from a plain 4 MiB file;
//   4 MiB puts vs writing the same bytes to a new plain file and renaming it.
// Usage: dotnet run -c Release --project bench/ChunkCacheBench [-- DIR]
const int ChunkSize = 4 << 20;
const int Chunks = 32;
var folder = args.Length > 0 ? args[0] : Path.Combine("/var/tmp", $"s3block-chunkcache-bench-{Environment.ProcessId}");
Directory.CreateDirectory(folder);
try
{
    var image = new byte[ChunkSize];
    Random.Shared.NextBytes(image);
    var keys = Enumerable.Range(0, Chunks).Select(i => $"vol/chunks/{i:x16}/00000001-{i:D20}").ToArray();

    var putCache = await TimeAsync(Chunks, async () =>
    {
        using var cache = Open(Path.Combine(folder, "put"), memory: 0);
        foreach (var key in keys)
        {
            await cache.PutAsync(key, image);
        }
    });
    var putPlain = await TimeAsync(Chunks, () =>
    {
        var dir = Path.Combine(folder, "plain");
        Directory.CreateDirectory(dir);
        for (var i = 0; i < Chunks; i++)
        {
            File.WriteAllBytes(Path.Combine(dir, $"{i}.tmp"), image);
            File.Move(Path.Combine(dir, $"{i}.tmp"), Path.Combine(dir, $"{i}.chunk"));
        }

        return Task.CompletedTask;
    });

    using var diskOnly = Open(Path.Combine(folder, "put"), memory: 0);
    var buffer = new byte[4096];
    const int Reads = 50_000;
    var random = new Random(1);
    var readDisk = await TimeAsync(Reads, async () =>
    {
        for (var i = 0; i < Reads; i++)
        {
            await diskOnly.TryReadAsync(keys[random.Next(Chunks)], random.Next(ChunkSize / 4096) * 4096L, buffer);
        }
    });
    diskOnly.Dispose();

    using var withRam = Open(Path.Combine(folder, "put"), memory: (long)ChunkSize * Chunks);
    foreach (var key in keys)
    {
        _ = await withRam.TryGetWholeAsync(key);
        for (var i = 0; i < 4; i++)
        {
            await withRam.TryReadAsync(key, 0, buffer); // promote to RAM
        }
    }

    var readRam = await TimeAsync(Reads, async () =>
    {
        for (var i = 0; i < Reads; i++)
        {
            await withRam.TryReadAsync(keys[random.Next(Chunks)], random.Next(ChunkSize / 4096) * 4096L, buffer);
        }
    });
    var plainFiles = Enumerable.Range(0, Chunks).Select(i => File.OpenHandle(Path.Combine(folder, "plain", $"{i}.chunk"))).ToArray();
    var readPlain = await TimeAsync(Reads, () =>
    {
        for (var i = 0; i < Reads; i++)
        {
            RandomAccess.Read(plainFiles[random.Next(Chunks)], buffer, random.Next(ChunkSize / 4096) * 4096L);
        }

        return Task.CompletedTask;
    });
    foreach (var handle in plainFiles)
    {
        handle.Dispose();
    }

    Console.WriteLine($"chunk cache benchmark in {folder}: {Chunks} chunks of {ChunkSize >> 20} MiB");
    Console.WriteLine($"{"case",-28} {"cache ops/s",12} {"plain ops/s",12} {"ratio",7}");
    Console.WriteLine($"{"put 4 MiB",-28} {putCache,12:F1} {putPlain,12:F1} {putCache / putPlain,7:F2}");
    Console.WriteLine($"{"4 KiB read, disk tier",-28} {readDisk,12:F0} {readPlain,12:F0} {readDisk / readPlain,7:F2}");
    Console.WriteLine($"{"4 KiB read, RAM tier",-28} {readRam,12:F0} {readPlain,12:F0} {readRam / readPlain,7:F2}");
}
finally
{
    Directory.Delete(folder, recursive: true);
}

static ChunkCache Open(string folder, long memory) =>
    ChunkCache.Open(new ChunkCacheOptions { Folder = folder, DiskBudgetBytes = 1L << 30, MemoryBudgetBytes = memory, PromoteAfterDiskHits = memory > 0 ? 4 : 0 });

static async Task<double> TimeAsync(int operations, Func<Task> body)
{
    var clock = Stopwatch.StartNew();
    await body();
    return operations / clock.Elapsed.TotalSeconds;
}
