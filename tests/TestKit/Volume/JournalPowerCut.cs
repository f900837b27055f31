using S3Block.Cache.Journal;

namespace S3Block.TestKit.Volume;

/// <summary>
/// Simulates a power cut of the journal's disk. It watches the journal's sync rounds: what a file held when a round
/// that fdatasyncs it began is on stable storage once the round succeeds. At the cut, every 4 KiB page that changed
/// since then keeps its new content or falls back to its durable one (zeros where nothing was durable), each page
/// independently at random: any subset of unsynced pages may have reached the disk, in any order.
/// </summary>
/// <remarks>Deleted files stay deleted (reclaim deletes only released segments; their loss changes nothing).</remarks>
public sealed class JournalPowerCut : FlushJournal.ISyncRoundObserver
{
    private const int Page = 4096;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, byte[]> _durable = [];
    private Dictionary<string, byte[]> _pending = [];

    /// <summary>Watches <paramref name="journal"/>'s sync rounds from now on.</summary>
    public void Attach(FlushJournal journal) => journal.SyncRoundObserverForTests = this;

    /// <summary>Takes what <paramref name="directory"/> holds now as durable (after an open's repair, which fsyncs it).</summary>
    public void TakeAsDurable(string directory)
    {
        lock (_lock)
        {
            _durable.Clear();
            foreach (var file in SegmentFiles(directory))
            {
                _durable[file] = File.ReadAllBytes(file);
            }
        }
    }

    void FlushJournal.ISyncRoundObserver.BeforeSync(IReadOnlyList<string> paths)
    {
        var snapshot = new Dictionary<string, byte[]>();
        foreach (var path in paths)
        {
            snapshot[path] = ReadShared(path);
        }

        lock (_lock)
        {
            _pending = snapshot;
        }
    }

    void FlushJournal.ISyncRoundObserver.AfterSync()
    {
        lock (_lock)
        {
            foreach (var (path, content) in _pending)
            {
                _durable[path] = content;
            }
        }
    }

    /// <summary>Applies the cut to the journal's files (the journal must be closed or crashed). Returns pages reverted.</summary>
    public int Cut(string directory, Random random)
    {
        var reverted = 0;
        lock (_lock)
        {
            foreach (var file in SegmentFiles(directory))
            {
                var current = File.ReadAllBytes(file);
                _durable.TryGetValue(file, out var durable);
                var result = new byte[current.Length];
                for (var offset = 0; offset < current.Length; offset += Page)
                {
                    var length = Math.Min(Page, current.Length - offset);
                    var now = current.AsSpan(offset, length);
                    var before = durable is not null && offset < durable.Length
                        ? durable.AsSpan(offset, Math.Min(length, durable.Length - offset))
                        : [];
                    var keepNew = now.SequenceEqual(before) || random.Next(2) == 0;
                    if (keepNew)
                    {
                        now.CopyTo(result.AsSpan(offset));
                    }
                    else
                    {
                        before.CopyTo(result.AsSpan(offset));
                        reverted++;
                    }
                }

                File.WriteAllBytes(file, result);
            }

            _durable.Clear();
        }

        return reverted;
    }

    private static string[] SegmentFiles(string directory) =>
        Directory.Exists(directory) ? Directory.GetFiles(directory, "*.journal") : [];

    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var content = new byte[stream.Length];
        stream.ReadExactly(content);
        return content;
    }
}
