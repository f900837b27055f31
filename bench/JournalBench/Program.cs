using System.Diagnostics;
using S3Block.Cache.Journal;
using S3Block.Cache.Platform;

// Measures the flush journal against the same disk's raw speed, in one run, and prints ratios:
//   volatile: journal appends vs raw pwrite of the same bytes at the end of a growing file;
//   fua:      journal append + wait-durable vs raw pwrite + fdatasync per write (one writer: no group commit possible),
//             both into a growing file and into a file written through beforehand (what fio measures on a laid-out
//             file: fdatasync writes data only); the ratio is against the better of the two.
// Usage: dotnet run -c Release --project bench/JournalBench [-- DIR]   (DIR defaults to a folder under /var/tmp)
var folder = args.Length > 0 ? args[0] : Path.Combine("/var/tmp", $"s3block-journal-bench-{Environment.ProcessId}");
Directory.CreateDirectory(folder);
try
{
    Console.WriteLine($"journal benchmark in {folder} ({Environment.ProcessorCount} cores)");
    Console.WriteLine($"{"case",-30} {"journal ops/s",14} {"append ref ops/s",17} {"overwrite ref",14} {"ratio",7}  {"journal MiB/s",13}");
    var only = Environment.GetEnvironmentVariable("JOURNAL_BENCH_CASE"); // e.g. "4096,1,True,32"
    foreach (var (recordBytes, appenders, fua, totalMiB) in only is not null
                 ? [ParseCase(only)]
                 : new[]
             {
                 (4096, 32, false, 256), (4096, 32, true, 64), (4096, 1, true, 8),
                 (128 << 10, 32, false, 1024), (128 << 10, 32, true, 512), (128 << 10, 1, true, 128),
             })
    {
        var count = (int)((long)totalMiB << 20) / recordBytes;
        var journal = await MeasureJournalAsync(folder, recordBytes, appenders, fua, count);
        var reference = MeasureReference(folder, recordBytes, fua, Math.Min(count, fua ? 2000 : count), writtenThrough: false);
        var overwrite = MeasureReference(folder, recordBytes, fua, Math.Min(count, fua ? 2000 : count), writtenThrough: true);
        var name = $"{recordBytes / 1024} KiB x{appenders} {(fua ? "fua" : "volatile")}";
        Console.WriteLine($"{name,-30} {journal,14:F0} {reference,17:F0} {overwrite,14:F0} {journal / Math.Max(reference, overwrite),7:F2}  {journal * recordBytes / (1 << 20),13:F1}");
    }
}
finally
{
    Directory.Delete(folder, recursive: true);
}

static (int, int, bool, int) ParseCase(string text)
{
    var parts = text.Split(',');
    return (int.Parse(parts[0]), int.Parse(parts[1]), bool.Parse(parts[2]), int.Parse(parts[3]));
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
        // Steady state, as in a daemon that has run a while: the first segment is made before the clock starts.
        await journal.WaitDurableAsync((await journal.AppendWriteAsync(0, payload)).Sequence);
        await Task.Delay(TimeSpan.FromSeconds(2));
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

static double MeasureReference(string folder, int recordBytes, bool fua, int count, bool writtenThrough)
{
    var path = Path.Combine(folder, "reference");
    var payload = new byte[recordBytes];
    Random.Shared.NextBytes(payload);
    using (var file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite))
    {
        if (writtenThrough)
        {
            var zeros = new byte[1 << 20];
            for (long offset = 0; offset < (long)count * recordBytes; offset += zeros.Length)
            {
                RandomAccess.Write(file, zeros, offset);
            }

            FileDurability.DataSync(file);
        }

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
