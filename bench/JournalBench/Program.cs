using System.Diagnostics;
using S3Block.Cache.Journal;
using S3Block.Cache.Platform;

// Measures the flush journal against the same disk's raw speed, in one run, and prints ratios:
//   volatile: journal appends vs raw pwrite of the same bytes at the end of a growing file;
//   fua:      journal append + wait-durable vs raw pwrite + fdatasync per write (one writer: no group commit possible).
// Usage: dotnet run -c Release --project bench/JournalBench [-- DIR]   (DIR defaults to a folder under /var/tmp)
var folder = args.Length > 0 ? args[0] : Path.Combine("/var/tmp", $"s3block-journal-bench-{Environment.ProcessId}");
Directory.CreateDirectory(folder);
try
{
    Console.WriteLine($"journal benchmark in {folder} ({Environment.ProcessorCount} cores)");
    Console.WriteLine($"{"case",-30} {"journal ops/s",14} {"reference ops/s",16} {"ratio",7}  {"journal MiB/s",13}");
    foreach (var (recordBytes, appenders, fua, totalMiB) in new[]
             {
                 (4096, 32, false, 256), (4096, 32, true, 64), (4096, 1, true, 8),
                 (128 << 10, 32, false, 1024), (128 << 10, 32, true, 512), (128 << 10, 1, true, 128),
             })
    {
        var count = (int)((long)totalMiB << 20) / recordBytes;
        var journal = await MeasureJournalAsync(folder, recordBytes, appenders, fua, count);
        var reference = MeasureReference(folder, recordBytes, fua, Math.Min(count, fua ? 2000 : count));
        var name = $"{recordBytes / 1024} KiB x{appenders} {(fua ? "fua" : "volatile")}";
        Console.WriteLine($"{name,-30} {journal,14:F0} {reference,16:F0} {journal / reference,7:F2}  {journal * recordBytes / (1 << 20),13:F1}");
    }
}
finally
{
    Directory.Delete(folder, recursive: true);
}

static async Task<double> MeasureJournalAsync(string folder, int recordBytes, int appenders, bool fua, int count)
{
    var dir = Path.Combine(folder, "journal");
    var options = new JournalOptions { SegmentSizeBytes = 64 << 20, CapacityBytes = 8L << 30 };
    var payload = new byte[recordBytes];
    Random.Shared.NextBytes(payload);
    var perAppender = count / appenders;
    await using (var journal = FlushJournal.Open(dir, Guid.NewGuid(), 1, 1, options))
    {
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, appenders).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < perAppender; i++)
            {
                var position = await journal.AppendWriteAsync((long)i * recordBytes, payload);
                if (fua)
                {
                    await journal.WaitDurableAsync(position.Sequence);
                }
            }
        })));
        await journal.FlushAsync();
        var rate = perAppender * appenders / clock.Elapsed.TotalSeconds;
        Directory.Delete(dir, recursive: true);
        return rate;
    }
}

static double MeasureReference(string folder, int recordBytes, bool fua, int count)
{
    var path = Path.Combine(folder, "reference");
    var payload = new byte[recordBytes];
    Random.Shared.NextBytes(payload);
    using (var file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite))
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            RandomAccess.Write(file, payload, (long)i * recordBytes);
            if (fua)
            {
                FileDurability.DataSync(file);
            }
        }

        FileDurability.DataSync(file);
        var rate = count / clock.Elapsed.TotalSeconds;
        File.Delete(path);
        return rate;
    }
}
