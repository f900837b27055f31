using System.Diagnostics;
using Microsoft.Extensions.Logging;
using S3Block.Cache.Chunks;
using S3Block.Cache.Journal;
using S3Block.ObjectStore.Local;
using S3Block.Volume;

namespace S3Block.Tests.PowerCut;

/// <summary>
/// Replays the state disk's dm-log-writes log into a file, and at each (sampled) FLUSH mark mounts a throw-away
/// snapshot of it (dm-snapshot over the replay file's loop device) and checks two views of the volume found there:
/// <list type="bullet">
/// <item>the <b>store view</b>: the volume as the local object store alone holds it (descriptor, checkpoint, commits and
/// chunk objects, read without opening the volume, so nothing is written first): a prefix of the write history;</item>
/// <item>the <b>volume view</b>: the volume opened as the daemon opens it (lease, journal replay, chunk cache, same
/// node): every write completed before the FLUSH reads back, and it is a prefix too.</item>
/// </list>
/// </summary>
internal sealed class Checker(CheckSettings settings)
{
    private const string SnapshotName = "powercut-snap";
    private readonly History _history = History.Load(settings.HistoryPath);
    private Expectations _expect = null!;
    private int _failedMarks;
    private long _replaySectors;

    public async Task<int> RunAsync()
    {
        _expect = new Expectations(_history);
        var flushes = _history.Flushes.ToDictionary(f => f.Mark);
        var sample = Sample(_history.Flushes.Select(f => f.Mark).ToList());
        Console.WriteLine($"check: {_history.Writes.Count} writes, {_history.Flushes.Count} flush marks in the history; checking {sample.Count} (seed {settings.Seed})");
        var stopwatch = Stopwatch.StartNew();
        using var log = new WriteLog(settings.LogPath);
        using var replay = File.OpenHandle(settings.ReplayFile, FileMode.Open, FileAccess.ReadWrite);
        _replaySectors = RandomAccess.GetLength(replay) / 512;
        var buffer = new byte[1 << 20];
        int marksReplayed = 0, marksChecked = 0;
        long writesReplayed = 0, bytesReplayed = 0;
        foreach (var entry in log.Entries())
        {
            if (entry.IsMark)
            {
                if (entry.Mark is { } name && flushes.TryGetValue(name, out var flush))
                {
                    marksReplayed++;
                    if (sample.Contains(name))
                    {
                        await CheckMarkAsync(flush, entry);
                        marksChecked++;
                    }
                }

                continue;
            }

            var offset = entry.Sector * log.SectorSize;
            var length = entry.Sectors * log.SectorSize;
            if (entry.IsDiscard)
            {
                if (Libc.FAllocate((int)replay.DangerousGetHandle(), Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, offset, length) != 0)
                {
                    throw Libc.Error("fallocate(PUNCH_HOLE) on the replay file");
                }

                continue;
            }

            for (long done = 0; done < length;)
            {
                var piece = (int)Math.Min(buffer.Length, length - done);
                log.ReadData(entry with { DataOffset = entry.DataOffset + done }, buffer.AsSpan(0, piece));
                RandomAccess.Write(replay, buffer.AsSpan(0, piece), offset + done);
                done += piece;
            }

            if (length > 0)
            {
                writesReplayed++;
                bytesReplayed += length;
            }
        }

        Console.WriteLine($"replayed {log.EntryCount} log entries ({writesReplayed} writes, {bytesReplayed >> 20} MiB) in {stopwatch.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"marks replayed: {marksReplayed}, checked: {marksChecked}, failed: {_failedMarks} (seed {settings.Seed})");
        if (marksReplayed != _history.Flushes.Count)
        {
            Console.WriteLine($"FAIL: the log holds {marksReplayed} of the {_history.Flushes.Count} flush marks the workload added");
            return 1;
        }

        return _failedMarks == 0 && marksChecked == sample.Count ? 0 : 1;
    }

    /// <summary>Every mark when there are at most <see cref="CheckSettings.MaxMarks"/>, else a seeded sample (the last always in).</summary>
    private HashSet<string> Sample(List<string> marks)
    {
        if (marks.Count <= settings.MaxMarks)
        {
            return [.. marks];
        }

        var random = new Random(settings.Seed);
        var chosen = marks.Take(marks.Count - 1).OrderBy(_ => random.Next()).Take(settings.MaxMarks - 1).ToHashSet();
        chosen.Add(marks[^1]);
        return chosen;
    }

    private async Task CheckMarkAsync(FlushRecord flush, WriteLogEntry entry)
    {
        var stopwatch = Stopwatch.StartNew();
        Run("dmsetup", "create", SnapshotName, "--table", $"0 {_replaySectors} snapshot {settings.ReplayDevice} {settings.CowDevice} N 8");
        var problems = new List<string>();
        string storeSummary = "not read", volumeSummary = "not opened";
        try
        {
            Directory.CreateDirectory(settings.MountPoint);
            Run("mount", "-t", "ext4", $"/dev/mapper/{SnapshotName}", settings.MountPoint);
            try
            {
                // The store first: opening the volume publishes a fencing commit and may change it.
                (storeSummary, var storeProblems) = await ViewAsync(StoreViewAsync);
                problems.AddRange(storeProblems.Select(p => $"store view: {p}"));
                (volumeSummary, var volumeProblems) = await ViewAsync(() => VolumeViewAsync(flush));
                problems.AddRange(volumeProblems.Select(p => $"volume view: {p}"));
            }
            finally
            {
                Unmount();
            }
        }
        finally
        {
            Run("dmsetup", "remove", SnapshotName);
        }

        var verdict = problems.Count == 0 ? "ok" : $"FAIL ({problems.Count} problems)";
        Console.WriteLine($"mark {flush.Mark} (log entry {entry.Index}, {_history.Writes.Count(w => w.CompleteSeq < flush.StartSeq)} writes flushed): {verdict}; " +
                          $"store {storeSummary}; volume {volumeSummary}; {stopwatch.Elapsed.TotalSeconds:F1} s");
        if (problems.Count > 0)
        {
            _failedMarks++;
            foreach (var problem in problems.Take(8))
            {
                Console.WriteLine($"  {problem}");
            }
        }
    }

    /// <summary>Runs one view; a view that cannot be read at all is one problem of that view.</summary>
    private static async Task<(string Summary, List<string> Problems)> ViewAsync(Func<Task<(string, List<string>)>> view)
    {
        try
        {
            return await view();
        }
        catch (Exception e)
        {
            return ("failed", [$"{e.GetType().Name}: {e.Message}"]);
        }
    }

    private void Unmount()
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Run("umount", settings.MountPoint);
                return;
            }
            catch (IOException) when (attempt < 5)
            {
                Thread.Sleep(200 * attempt);
            }
        }
    }

    /// <summary>The volume as the store folder alone holds it, read without opening (opening writes a commit).</summary>
    private async Task<(string Summary, List<string> Problems)> StoreViewAsync()
    {
        using var store = new LocalDirectoryObjectStore(StorePath);
        var state = await VolumeCatalog.OpenAsync(store, settings.Volume, CancellationToken.None);
        var keys = new VolumeKeys(settings.Volume);
        var chunkSize = state.Descriptor.ChunkSizeBytes;
        var visible = new Dictionary<long, long>();
        var image = new byte[chunkSize];
        foreach (var (start, length) in Regions())
        {
            for (var chunk = start / chunkSize; chunk * chunkSize < start + length; chunk++)
            {
                var version = state.Chunks[chunk];
                if (version.IsZero)
                {
                    Array.Clear(image);
                }
                else
                {
                    var content = await store.GetAsync(keys.Chunk(chunk, version), null, CancellationToken.None);
                    if (content.Data.Length != chunkSize)
                    {
                        throw new InvalidDataException($"chunk object {keys.Chunk(chunk, version)} holds {content.Data.Length} bytes, not {chunkSize}");
                    }

                    content.Data.CopyTo(image, 0);
                }

                var from = Math.Max(start, chunk * chunkSize);
                var to = Math.Min(start + length, (chunk + 1) * chunkSize);
                Classify(image.AsSpan((int)(from - (chunk * chunkSize)), (int)(to - from)), from, visible);
            }
        }

        var problems = _expect.CheckPrefix(visible);
        problems.AddRange(visible.Where(v => v.Value == Expectations.Damaged).Select(v => $"block {v.Key} is damaged"));
        return ($"commit {state.LastCommitNumber} (journal seq {state.LastJournalSequence}, newest write {Expectations.Newest(visible)})", problems);
    }

    /// <summary>The volume opened as the daemon would open it on this node after the power cut.</summary>
    private async Task<(string Summary, List<string> Problems)> VolumeViewAsync(FlushRecord flush)
    {
        var stateDirectory = Path.Combine(settings.MountPoint, "data", "state");
        if (!File.Exists(Path.Combine(stateDirectory, "node-id")))
        {
            return ("not opened", ["the node identity (data/state/node-id) is gone: the daemon would not recognize its own journal and lease"]);
        }

        var node = NodeIdentity.LoadOrCreate(stateDirectory);
        var volumeState = Path.Combine(stateDirectory, settings.Volume);
        using var store = new LocalDirectoryObjectStore(StorePath);
        using var cache = ChunkCache.Open(new ChunkCacheOptions { Folder = Path.Combine(volumeState, "cache"), DiskBudgetBytes = settings.CacheBudgetBytes });
        var logger = new PrefixLogger($"  [open {flush.Mark}] ");
        var volume = await S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = store,
            VolumeName = settings.Volume,
            JournalDirectory = Path.Combine(volumeState, "journal"),
            JournalOptions = new JournalOptions { SegmentSizeBytes = settings.JournalSegmentBytes, CapacityBytes = settings.JournalCapacityBytes },
            Cache = new ChunkCacheAdapter(cache),
            // No uploads while checking: what is read is what the open found.
            Options = new VolumeOptions { CommitInterval = TimeSpan.FromHours(1), CommitThresholdBytes = 1L << 40 },
            Node = node,
            Logger = logger,
        }, CancellationToken.None);
        var visible = new Dictionary<long, long>();
        try
        {
            var buffer = new byte[1 << 20];
            foreach (var (start, length) in Regions())
            {
                for (long done = 0; done < length; done += buffer.Length)
                {
                    var piece = (int)Math.Min(buffer.Length, length - done);
                    await volume.ReadAsync(start + done, buffer.AsMemory(0, piece), CancellationToken.None);
                    Classify(buffer.AsSpan(0, piece), start + done, visible);
                }
            }
        }
        finally
        {
            await volume.DisposeAsync();
        }

        var problems = _expect.CheckFlushed(flush, visible);
        problems.AddRange(_expect.CheckPrefix(visible));
        var replay = volume.JournalReplay;
        var damage = replay.Damage is null ? "clean" : $"{replay.DamageKind} cut {replay.BytesDiscarded} bytes, {replay.ValidRecordsAfterDamage} valid records after";
        return ($"opened (epoch {volume.Epoch}, {replay.RecordsReplayed} journal records through seq {replay.LastSequence}, {damage}, newest write {Expectations.Newest(visible)})", problems);
    }

    private string StorePath => Path.Combine(settings.MountPoint, "data", "store");

    /// <summary>The ranges the workload writes: one region per writer thread.</summary>
    private IEnumerable<(long Start, long Length)> Regions() =>
        Enumerable.Range(0, settings.Threads).Select(t => (t * (settings.VolumeBytes / settings.Threads), settings.RegionBytes));

    private void Classify(ReadOnlySpan<byte> data, long offset, Dictionary<long, long> visible)
    {
        for (var i = 0; i < data.Length; i += BlockPattern.BlockSize)
        {
            var block = (offset + i) / BlockPattern.BlockSize;
            visible[block] = _expect.Classify(data.Slice(i, BlockPattern.BlockSize), block);
        }
    }

    private static void Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new IOException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {output.Trim()}");
        }
    }

    /// <summary>Prints the volume's warnings (a torn journal tail, a journal moved aside) under the mark they belong to.</summary>
    private sealed class PrefixLogger(string prefix) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                Console.WriteLine($"{prefix}{logLevel}: {formatter(state, exception)}");
            }
        }
    }
}

/// <summary>What <see cref="Checker"/> checks, and how the daemon was configured (the volume view opens it the same way).</summary>
internal sealed record CheckSettings(
    string LogPath, string ReplayFile, string ReplayDevice, string CowDevice, string HistoryPath, string MountPoint, string Volume,
    long VolumeBytes, long RegionBytes, int Threads, int MaxMarks, int Seed, long JournalSegmentBytes, long JournalCapacityBytes, long CacheBudgetBytes);
