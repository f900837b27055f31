using System.Diagnostics;
using System.Runtime.InteropServices;

namespace S3Block.Tests.PowerCut;

/// <summary>
/// Writes the device with O_DIRECT from several threads at once (each its own region, so writes to one block never
/// overlap in time and their ids order them), and from another thread issues FLUSHes (fdatasync of the device): after
/// each one that completed it adds a dm-log-writes mark to the state disk's log and records, in the history, which
/// writes had completed before the FLUSH was issued.
/// </summary>
internal sealed unsafe class Workload(WorkloadSettings settings)
{
    private const int MaxBlocksPerWrite = 16;
    private readonly History _history = new();
    private readonly Lock _lock = new();
    private long _sequence;
    private long _nextId;
    private long _completed;
    private long _completedAtLastFlush;
    private int _writersRunning;

    public int Run()
    {
        var fd = Libc.Open(settings.Device, Libc.O_RDWR | Libc.O_DIRECT | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            throw Libc.Error($"open {settings.Device}");
        }

        var stopwatch = Stopwatch.StartNew();
        _writersRunning = settings.Threads;
        var writers = Enumerable.Range(0, settings.Threads)
            .Select(t => new Thread(() => WriteLoop(fd, t)) { Name = $"writer-{t}" })
            .ToList();
        writers.ForEach(t => t.Start());
        FlushLoop(fd);
        writers.ForEach(t => t.Join());
        // One last FLUSH after everything completed.
        FlushAndMark(fd);
        Libc.Close(fd);
        _history.Save(settings.HistoryPath);
        Console.WriteLine($"workload: {_history.Writes.Count} writes ({_history.Writes.Sum(w => (long)w.Length) >> 20} MiB) from {settings.Threads} threads, " +
                          $"{_history.Flushes.Count} flushes marked, {stopwatch.Elapsed.TotalSeconds:F1} s, seed {settings.Seed}");
        return 0;
    }

    private void WriteLoop(int fd, int thread)
    {
        var random = new Random(HashCode.Combine(settings.Seed, thread));
        var buffer = (byte*)NativeMemory.AlignedAlloc(MaxBlocksPerWrite * BlockPattern.BlockSize, BlockPattern.BlockSize);
        try
        {
            var regionStart = thread * (settings.VolumeBytes / settings.Threads);
            var regionBlocks = (int)(settings.RegionBytes / BlockPattern.BlockSize);
            while (true)
            {
                // Writers run ahead of the last FLUSH by a bounded number of writes, so the marks come often enough
                // whatever the speed of the machine, and writes stay in flight while a FLUSH runs.
                while (Interlocked.Read(ref _completed) - Interlocked.Read(ref _completedAtLastFlush) >= settings.MaxUnflushed)
                {
                    Thread.Sleep(1);
                }

                var id = Interlocked.Increment(ref _nextId);
                if (id > settings.Writes)
                {
                    break;
                }

                var blocks = random.Next(1, MaxBlocksPerWrite + 1);
                var offset = regionStart + (long)random.Next(0, regionBlocks - blocks + 1) * BlockPattern.BlockSize;
                var length = blocks * BlockPattern.BlockSize;
                for (var b = 0; b < blocks; b++)
                {
                    BlockPattern.Fill(new Span<byte>(buffer + (b * BlockPattern.BlockSize), BlockPattern.BlockSize), id, (offset / BlockPattern.BlockSize) + b);
                }

                var issued = Interlocked.Increment(ref _sequence);
                var written = Libc.PWrite(fd, buffer, (nuint)length, offset);
                if (written != length)
                {
                    throw written < 0 ? Libc.Error($"pwrite {offset}+{length}") : new IOException($"short write {written} of {length} at {offset}");
                }

                var completed = Interlocked.Increment(ref _sequence);
                lock (_lock)
                {
                    _history.Writes.Add(new WriteRecord(id, issued, completed, offset, length));
                }

                Interlocked.Increment(ref _completed);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
            Interlocked.Decrement(ref _writersRunning);
        }
    }

    /// <summary>A FLUSH after every few dozen completed writes (seeded gaps), while the writers run.</summary>
    private void FlushLoop(int fd)
    {
        var random = new Random(settings.Seed);
        long last = 0;
        while (Volatile.Read(ref _writersRunning) > 0)
        {
            var gap = random.Next(settings.FlushGapMin, settings.FlushGapMax + 1);
            while (Volatile.Read(ref _writersRunning) > 0 && Interlocked.Read(ref _completed) < last + gap)
            {
                Thread.Sleep(1);
            }

            last = Interlocked.Read(ref _completed);
            Interlocked.Exchange(ref _completedAtLastFlush, last);
            FlushAndMark(fd);
        }
    }

    private void FlushAndMark(int fd)
    {
        var number = _history.Flushes.Count + 1;
        var start = Interlocked.Increment(ref _sequence);
        if (Libc.FDataSync(fd) != 0)
        {
            throw Libc.Error("fdatasync");
        }

        var mark = $"flush{number}";
        using (var dmsetup = Process.Start("dmsetup", ["message", settings.LogDeviceName, "0", "mark", mark]))
        {
            dmsetup.WaitForExit();
            if (dmsetup.ExitCode != 0)
            {
                throw new IOException($"dmsetup message {settings.LogDeviceName} 0 mark {mark} failed ({dmsetup.ExitCode})");
            }
        }

        var end = Interlocked.Increment(ref _sequence);
        _history.Flushes.Add(new FlushRecord(number, start, end, mark));
    }
}

/// <summary>What <see cref="Workload"/> does.</summary>
internal sealed record WorkloadSettings(
    string Device, string LogDeviceName, string HistoryPath, int Seed, long VolumeBytes, long RegionBytes, int Threads, int Writes,
    int FlushGapMin, int FlushGapMax, int MaxUnflushed)
{
    public int MaxUnflushed { get; } = MaxUnflushed > FlushGapMax ? MaxUnflushed : throw new ArgumentException("max-unflushed must exceed flush-gap-max");
}
