using System.Buffers.Binary;
using Ublk.Server.Block;
using S3Block.Cache.Journal;
using S3Block.ObjectStore;
using S3Block.Volume;

namespace S3Block.TestKit.Volume;

/// <summary>
/// Many writers in flight, as the ublk queues produce them, with FLUSHes, FUA writes and commits running beside them,
/// crashed at a random moment while requests are still in flight, in two modes:
/// <list type="bullet">
/// <item><b>Process crash</b> (SIGKILL: the page cache survives, nothing is synced on the way down): the journal files
/// are copied at the instant of the crash, while every thread is still running (what a SIGKILL leaves), and the copy
/// is what the next open finds. Every write that completed before the crash must read back (or a write that did not
/// happen before it).</item>
/// <item><b>Power cut</b> (every page not fdatasync'ed keeps its new content or loses it, independently; see
/// <see cref="JournalPowerCut"/>): every write completed before a FLUSH that completed, and every completed FUA
/// write, must read back.</item>
/// </list>
/// In both modes the disk must be causally consistent (a prefix of the history): if a write is visible, every write
/// that completed before it was issued is visible too (or overwritten by a write not older than it). Every block
/// carries the id of the write that wrote it, so the oracle knows exactly which write each block shows.
/// Appends are delayed at random before their journal write, so they finish out of sequence order, and between their
/// append and their indexing, so a FLUSH meets acknowledged writes above a sequence still being indexed.
/// </summary>
public abstract class ConcurrentCrashOracleContract(ITestOutputHelper output)
{
    private const int Block = 4096;
    private const int Blocks = 256;
    private const int Writers = 8;
    private const int Rounds = 3;

    public enum Mode
    {
        ProcessCrash,
        PowerCut,
    }

    /// <summary>The cases for <paramref name="seeds"/> seeds of each mode.</summary>
    protected static TheoryData<Mode, int> Cases(int seeds)
    {
        var data = new TheoryData<Mode, int>();
        foreach (var mode in Enum.GetValues<Mode>())
        {
            for (var seed = 1; seed <= seeds; seed++)
            {
                data.Add(mode, seed);
            }
        }

        return data;
    }

    /// <summary>A fresh, empty store for one case.</summary>
    protected abstract IObjectStore CreateStore();

    /// <summary>Runs one seed of one mode; a concrete class exposes it as a theory over <see cref="Cases"/>.</summary>
    protected async Task RunAsync(Mode mode, int seed)
    {
        output.WriteLine($"seed {seed}, mode {mode} (rerun this case to reproduce)");
        var random = new Random(seed);
        using var harness = new VolumeHarness(sizeBytes: Blocks * Block, chunkSize: 64 * 1024, store: CreateStore());
        var journalOptions = new JournalOptions { SegmentSizeBytes = 256 * 1024, CapacityBytes = 16L << 20 };
        var baseline = new long[Blocks]; // the write id each block shows when a round starts (0: never written)
        long nextWriteId = 1;
        for (var round = 0; round < Rounds; round++)
        {
            var volume = await harness.OpenAsync(journal: journalOptions);
            var powerCut = new JournalPowerCut();
            powerCut.TakeAsDurable(harness.JournalDirectory);
            powerCut.Attach(volume.JournalForTests);
            var run = new Round(volume, new Random(random.Next()), nextWriteId);
            var crashAfter = random.Next(40, 400);
            Dictionary<string, byte[]>? killed = null;
            var stats = await run.RunUntilCrashAsync(crashAfter, () => killed = CopyJournal(harness.JournalDirectory));
            nextWriteId = run.NextWriteId;
            var reverted = 0;
            if (mode == Mode.PowerCut)
            {
                reverted = powerCut.Cut(harness.JournalDirectory, new Random(random.Next()));
            }
            else
            {
                RestoreJournal(harness.JournalDirectory, killed!);
            }

            var reopened = await harness.OpenAsync(journal: journalOptions);
            var image = await VolumeHarness.ReadAllAsync(reopened);
            var visible = run.Check(image, baseline, mode);
            output.WriteLine($"round {round}: {stats}; power cut reverted {reverted} pages; replay: {reopened.JournalReplay.RecordsReplayed} records");
            visible.CopyTo(baseline, 0);
            await reopened.CloseAsync(drain: false, progress: null, CancellationToken.None);
        }
    }

    /// <summary>The segment files as they are at this instant (other threads may be writing them).</summary>
    private static Dictionary<string, byte[]> CopyJournal(string directory)
    {
        var copy = new Dictionary<string, byte[]>();
        foreach (var file in Directory.GetFiles(directory, "*.journal").Order(StringComparer.Ordinal))
        {
            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var content = new byte[stream.Length];
                stream.ReadExactly(content);
                copy[file] = content;
            }
            catch (FileNotFoundException)
            {
                // Released between the listing and the open. Segments are released oldest first, so every earlier one
                // is gone too: a SIGKILL at this moment would have left none of them.
                copy.Clear();
            }
        }

        return copy;
    }

    /// <summary>Puts the journal back as it was copied at the crash (files made or changed later are undone).</summary>
    private static void RestoreJournal(string directory, Dictionary<string, byte[]> copy)
    {
        foreach (var file in Directory.GetFiles(directory, "*.journal"))
        {
            if (!copy.ContainsKey(file))
            {
                File.Delete(file);
            }
        }

        foreach (var (file, content) in copy)
        {
            File.WriteAllBytes(file, content);
        }
    }

    private sealed record Write(long Id, int FirstBlock, int BlockCount, bool Fua)
    {
        public long Issued { get; set; }

        public long Completed { get; set; } = long.MaxValue; // never, until registered before the crash
    }

    private sealed record Flush(long Issued, long Completed);

    /// <summary>One round: the workload until the crash, then the oracle's check of what was recovered.</summary>
    private sealed class Round(S3Volume volume, Random random, long firstWriteId)
    {
        private readonly Lock _lock = new();
        private readonly List<Write> _writes = [];
        private readonly List<Flush> _flushes = [];
        private long _clock;
        private long _nextWriteId = firstWriteId;
        private bool _crashed;
        private int _commits;

        public long NextWriteId => _nextWriteId;

        /// <summary>Runs the workload; once <paramref name="writesBeforeCrash"/> writes completed, calls <paramref name="atCrash"/> at
        /// the crash instant (nothing completing afterwards counts as acknowledged), then crashes the volume.</summary>
        public async Task<string> RunUntilCrashAsync(int writesBeforeCrash, Action atCrash)
        {
            var journal = volume.JournalForTests;
            var delays = new Random(random.Next());
            journal.BeforeWriteForTests = async _ =>
            {
                int dice;
                lock (delays)
                {
                    dice = delays.Next(10);
                }

                // Some appends stall before their write, so later sequences finish (and would be acknowledged) first.
                if (dice < 3)
                {
                    await Task.Delay(dice);
                }
                else if (dice < 6)
                {
                    await Task.Yield();
                }
            };

            // And some requests are slow to index their append (a thread preempted right after it): a FLUSH must still
            // cover every write acknowledged meanwhile, whatever its sequence.
            volume.BeforeIndexForTests = async _ =>
            {
                int dice;
                lock (delays)
                {
                    dice = delays.Next(10);
                }

                if (dice < 2)
                {
                    await Task.Delay(dice + 1);
                }
            };

            using var stop = new CancellationTokenSource();
            var workers = new List<Task>();
            for (var w = 0; w < Writers; w++)
            {
                workers.Add(Task.Run(() => WriterAsync(new Random(random.Next()), stop.Token)));
            }

            workers.Add(Task.Run(() => FlusherAsync(stop.Token)));
            workers.Add(Task.Run(() => CommitterAsync(stop.Token)));
            while (true)
            {
                lock (_lock)
                {
                    if (_writes.Count(w => w.Completed != long.MaxValue) >= writesBeforeCrash)
                    {
                        _crashed = true; // from here on, nothing that completes counts as acknowledged
                        break;
                    }
                }

                await Task.Delay(1);
            }

            atCrash();

            await volume.CrashForTestsAsync();
            await stop.CancelAsync();
            await Task.WhenAll(workers.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
            lock (_lock)
            {
                return $"{_writes.Count} writes issued, {_writes.Count(w => w.Completed != long.MaxValue)} completed, "
                    + $"{_flushes.Count} flushes completed, {_commits} commits";
            }
        }

        /// <summary>Checks the recovered image; returns the write id each block shows.</summary>
        public long[] Check(byte[] image, long[] baseline, Mode mode)
        {
            var byId = _writes.ToDictionary(w => w.Id);
            var visible = new long[Blocks];
            for (var b = 0; b < Blocks; b++)
            {
                var block = image.AsSpan(b * Block, Block);
                var id = block.IndexOfAnyExcept((byte)0) < 0 ? 0 : BinaryPrimitives.ReadInt64LittleEndian(block);
                var known = id == baseline[b] || byId.TryGetValue(id, out var w) && b >= w.FirstBlock && b < w.FirstBlock + w.BlockCount;
                Assert.True(known, $"block {b} shows write {id}, which never wrote it (baseline {baseline[b]})");
                Assert.True(block.SequenceEqual(Content(id, b)), $"block {b} is torn or wrong: it does not hold write {id}'s data");
                visible[b] = id;
            }

            // The writes the mode says must survive.
            var lastFlushIssued = _flushes.Count == 0 ? -1 : _flushes.Max(f => f.Issued);
            bool Required(Write w) => w.Completed != long.MaxValue
                && (mode == Mode.ProcessCrash || w.Fua || w.Completed < lastFlushIssued);

            // A block shows write v; write u happened before v if u completed before v was issued.
            bool HappenedBefore(long u, long v) =>
                u == 0 || (u != v && byId.TryGetValue(u, out var wu) && byId.TryGetValue(v, out var wv) && wu.Completed < wv.Issued);

            // Baseline writes (earlier rounds) happened before every write of this round.
            bool Older(long shown, Write than, int block) =>
                (shown == baseline[block] && !byId.ContainsKey(shown)) || HappenedBefore(shown, than.Id);

            foreach (var w in _writes)
            {
                for (var b = w.FirstBlock; b < w.FirstBlock + w.BlockCount; b++)
                {
                    if (Required(w))
                    {
                        Assert.False(Older(visible[b], w, b),
                            $"{mode}: block {b} shows write {visible[b]}, older than write {w.Id}, which completed "
                            + $"{(mode == Mode.ProcessCrash ? "before the crash" : w.Fua ? "with FUA" : "before a completed FLUSH")}");
                    }
                }
            }

            // Causality (a prefix of the history): whatever a visible write saw completed must be visible too.
            var visibleWrites = visible.Where(byId.ContainsKey).Distinct().Select(id => byId[id]).ToList();
            foreach (var v in visibleWrites)
            {
                foreach (var u in _writes.Where(u => u.Completed < v.Issued))
                {
                    for (var b = u.FirstBlock; b < u.FirstBlock + u.BlockCount; b++)
                    {
                        Assert.False(Older(visible[b], u, b),
                            $"{mode}: not a prefix: write {v.Id} is visible, but block {b} shows {visible[b]}, older than write {u.Id} "
                            + $"which completed before write {v.Id} was issued");
                    }
                }
            }

            return visible;
        }

        private async Task WriterAsync(Random random, CancellationToken cancellationToken)
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var count = random.Next(1, 9);
                var first = random.Next(0, Blocks - count + 1);
                var fua = random.Next(8) == 0;
                Write write;
                lock (_lock)
                {
                    if (_crashed)
                    {
                        return;
                    }

                    write = new Write(_nextWriteId++, first, count, fua) { Issued = ++_clock };
                    _writes.Add(write);
                }

                var data = new byte[count * Block];
                for (var i = 0; i < count; i++)
                {
                    Content(write.Id, first + i).CopyTo(data, i * Block);
                }

                try
                {
                    await volume.WriteAsync((long)first * Block, data, fua ? WriteFlags.ForceUnitAccess : WriteFlags.None, cancellationToken);
                }
                catch (Exception)
                {
                    return; // the crash
                }

                lock (_lock)
                {
                    if (_crashed)
                    {
                        return;
                    }

                    write.Completed = ++_clock;
                }
            }
        }

        private async Task FlusherAsync(CancellationToken cancellationToken)
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(random.Next(0, 3), CancellationToken.None);
                long issued;
                lock (_lock)
                {
                    if (_crashed)
                    {
                        return;
                    }

                    issued = ++_clock;
                }

                try
                {
                    await volume.FlushAsync(cancellationToken);
                }
                catch (Exception)
                {
                    return;
                }

                lock (_lock)
                {
                    if (_crashed)
                    {
                        return;
                    }

                    _flushes.Add(new Flush(issued, ++_clock));
                }
            }
        }

        private async Task CommitterAsync(CancellationToken cancellationToken)
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(random.Next(1, 10), CancellationToken.None);
                lock (_lock)
                {
                    if (_crashed)
                    {
                        return;
                    }
                }

                try
                {
                    if (await volume.CommitOnceAsync(cancellationToken))
                    {
                        Interlocked.Increment(ref _commits);
                    }
                }
                catch (Exception)
                {
                    return;
                }
            }
        }
    }

    /// <summary>The 4 KiB a write puts in a block: its id, the block number, then bytes derived from both.</summary>
    private static byte[] Content(long writeId, int block)
    {
        var content = new byte[Block];
        if (writeId == 0)
        {
            return content;
        }

        BinaryPrimitives.WriteInt64LittleEndian(content, writeId);
        BinaryPrimitives.WriteInt64LittleEndian(content.AsSpan(8), block);
        new Random(unchecked((int)(writeId * 1_000_003) ^ block)).NextBytes(content.AsSpan(16));
        return content;
    }
}
