using System.Security.Cryptography;
using Ublk.Server.Block;
using S3Block.ObjectStore;
using S3Block.Volume;

namespace S3Block.TestKit.Volume;

/// <summary>
/// A randomized workload (writes, overwrites, TRIMs, flushes, commits) with an oracle that remembers the disk after
/// every acknowledged operation, interleaved with crashes at random points:
/// <list type="bullet">
/// <item>(a) the process dies (between operations, in the middle of an upload, or between the uploads and the commit):
/// the recovered disk must be the history up to a position at or after the last acknowledged FLUSH; since the page
/// cache survives a process crash, it must in fact be the whole history;</item>
/// <item>(b) power is lost: every journal page not fdatasync'ed keeps or loses its new content at random
/// (<see cref="JournalPowerCut"/>): the disk must be the history up to a position at or after the last durable point;</item>
/// <item>(c) the local disk is lost (journal deleted): the disk read back from S3 alone must be the history up to
/// exactly the last published commit.</item>
/// </list>
/// </summary>
public abstract class CrashConsistencyContract(ITestOutputHelper output)
{
    private const int CrashesPerSeed = 4;
    private const int OperationsPerRound = 40;
    private const int Block = 4096;

    /// <summary>The cases for <paramref name="seeds"/> seeds of every crash kind.</summary>
    protected static TheoryData<CrashKind, int> Cases(int seeds)
    {
        var data = new TheoryData<CrashKind, int>();
        foreach (var kind in Enum.GetValues<CrashKind>())
        {
            for (var seed = 1; seed <= seeds; seed++)
            {
                data.Add(kind, seed);
            }
        }

        return data;
    }

    /// <summary>A fresh, empty store for one case.</summary>
    protected abstract IObjectStore CreateStore();

    /// <summary>Runs one seed of one crash kind; a concrete class exposes it as a theory over <see cref="Cases"/>.</summary>
    protected async Task RunAsync(CrashKind kind, int seed)
    {
        using var harness = new VolumeHarness(sizeBytes: 512 * 1024, chunkSize: 64 * 1024, store: CreateStore());
        var run = new Run(harness, new Random(seed));
        await run.OpenAsync();
        var crashPoints = new List<string>();

        for (var round = 0; round < CrashesPerSeed; round++)
        {
            await run.RandomOperationsAsync(OperationsPerRound);
            crashPoints.Add(await run.CrashAsync(kind));
            await run.RecoverAndVerifyAsync(kind);
        }

        await run.Volume.CloseAsync(drain: true, progress: null, CancellationToken.None);
        output.WriteLine($"{kind} seed {seed}: {run.Operations} operations, {run.Commits} commits, crash points: {string.Join(", ", crashPoints)}; " +
                         $"recovered to history positions {string.Join(", ", run.RecoveredPositions)}");
    }

    public enum CrashKind
    {
        ProcessCrash,
        LostUnsyncedJournalTail,
        LostLocalDisk,
    }

    /// <summary>One seed's workload, oracle and crash machinery.</summary>
    private sealed class Run(VolumeHarness harness, Random random)
    {
        private readonly byte[] _disk = new byte[harness.Descriptor.SizeBytes];
        private readonly List<byte[]> _history = [SHA256.HashData(new byte[harness.Descriptor.SizeBytes])];
        private int _durableIndex;
        private int _committedIndex;
        private JournalPowerCut _powerCut = new();

        public S3Volume Volume { get; set; } = null!;

        public int Operations { get; private set; }

        public int Commits { get; private set; }

        public List<int> RecoveredPositions { get; } = [];

        private int Current => _history.Count - 1;

        private static CancellationToken Ct => TestContext.Current.CancellationToken;

        public async Task RandomOperationsAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                Operations++;
                var dice = random.Next(100);
                if (dice < 45)
                {
                    var (offset, length) = RandomRange(maxBlocks: 40);
                    var data = new byte[length];
                    random.NextBytes(data);
                    var flags = random.Next(10) == 0 ? WriteFlags.ForceUnitAccess : WriteFlags.None;
                    await Volume.WriteAsync(offset, data, flags, Ct);
                    data.CopyTo(_disk, offset);
                    Record();
                    if (flags == WriteFlags.ForceUnitAccess)
                    {
                        // FUA makes this record durable; earlier ones may still be only in the page cache.
                        await Volume.FlushAsync(Ct);
                        MarkDurable();
                    }
                }
                else if (dice < 55)
                {
                    var (offset, length) = random.Next(20) == 0 ? (0L, (int)_disk.Length) : RandomRange(maxBlocks: 64);
                    if (random.Next(2) == 0)
                    {
                        await Volume.DiscardAsync(offset, length, Ct);
                    }
                    else
                    {
                        await Volume.WriteZeroesAsync(offset, length, Ct);
                    }

                    Array.Clear(_disk, (int)offset, length);
                    Record();
                }
                else if (dice < 70)
                {
                    await Volume.FlushAsync(Ct);
                    MarkDurable();
                }
                else if (dice < 85)
                {
                    await CommitAsync();
                }
                else
                {
                    var (offset, length) = RandomRange(maxBlocks: 48);
                    var read = new byte[length];
                    await Volume.ReadAsync(offset, read, Ct);
                    Assert.True(read.AsSpan().SequenceEqual(_disk.AsSpan((int)offset, length)), $"live read at {offset}+{length} differs from the oracle");
                }
            }
        }

        /// <summary>Crashes the volume at a random point of the given kind; returns a description of the point.</summary>
        public async Task<string> CrashAsync(CrashKind kind)
        {
            string point;
            switch (random.Next(3))
            {
                case 0:
                    point = "between operations";
                    break;
                case 1:
                    var crashAt = random.Next(1, 4);
                    point = $"at chunk upload {crashAt}";
                    harness.Store.CrashAtChunkPut = crashAt;
                    try
                    {
                        await Volume.CommitOnceAsync(harness.Store.Crashed.Token);
                        point += " (commit had fewer uploads, completed)";
                        CommitCompleted();
                    }
                    catch (OperationCanceledException)
                    {
                    }

                    harness.Store.ResetCrash();
                    break;
                default:
                    point = "after the uploads, before the commit record";
                    Volume.BeforePublishForTests = _ => throw new InjectedCrashException();
                    try
                    {
                        await Volume.CommitOnceAsync(Ct);
                        point += " (nothing to commit)";
                    }
                    catch (InjectedCrashException)
                    {
                    }

                    break;
            }

            await Volume.CrashForTestsAsync();
            switch (kind)
            {
                case CrashKind.LostUnsyncedJournalTail:
                    _powerCut.Cut(harness.JournalDirectory, random);
                    break;
                case CrashKind.LostLocalDisk:
                    harness.DeleteLocalState();
                    break;
            }

            return point;
        }

        /// <summary>Opens the volume and starts watching what its journal makes durable.</summary>
        public async Task OpenAsync()
        {
            Volume = await harness.OpenAsync();
            _powerCut = new JournalPowerCut();
            _powerCut.TakeAsDurable(harness.JournalDirectory);
            _powerCut.Attach(Volume.JournalForTests);
        }

        public async Task RecoverAndVerifyAsync(CrashKind kind)
        {
            await OpenAsync();
            var image = await VolumeHarness.ReadAllAsync(Volume);
            var hash = SHA256.HashData(image);
            var lowest = kind switch
            {
                CrashKind.ProcessCrash => Current,
                CrashKind.LostUnsyncedJournalTail => _durableIndex,
                _ => _committedIndex,
            };
            var highest = kind == CrashKind.LostLocalDisk ? _committedIndex : Current;
            var position = -1;
            for (var i = highest; i >= lowest; i--)
            {
                if (_history[i].AsSpan().SequenceEqual(hash))
                {
                    position = i;
                    break;
                }
            }

            Assert.True(position >= 0,
                $"{kind}: the recovered disk is not the history at any position in {lowest}..{highest} (durable {_durableIndex}, committed {_committedIndex}, latest {Current})");
            RecoveredPositions.Add(position);

            // The recovered disk is the new truth: the oracle continues from it.
            image.CopyTo(_disk, 0);
            _history.RemoveRange(position + 1, _history.Count - position - 1);
            _durableIndex = Math.Min(_durableIndex, position);
            _committedIndex = Math.Min(_committedIndex, position);
        }

        private async Task CommitAsync()
        {
            await Volume.CommitOnceAsync(Ct);
            CommitCompleted();
        }

        private void CommitCompleted()
        {
            Commits++;
            // A commit covers everything acknowledged before it and first makes the journal durable through it.
            _committedIndex = Current;
            MarkDurable();
        }

        private void Record()
        {
            _history.Add(SHA256.HashData(_disk));
        }

        private void MarkDurable()
        {
            _durableIndex = Current;
        }

        private (long Offset, int Length) RandomRange(int maxBlocks)
        {
            var blocks = (int)(_disk.Length / Block);
            var count = random.Next(1, maxBlocks + 1);
            var start = random.Next(0, blocks - Math.Min(count, blocks) + 1);
            count = Math.Min(count, blocks - start);
            return ((long)start * Block, count * Block);
        }
    }

    private sealed class InjectedCrashException : Exception;
}
