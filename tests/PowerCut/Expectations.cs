namespace S3Block.Tests.PowerCut;

/// <summary>
/// What the history allows a block to show, and the two properties every state must have: every write completed before
/// a FLUSH that completed is there (or a later write over it), and the volume is a prefix of the write history (no
/// write shows while one that had completed before it was issued is missing).
/// </summary>
internal sealed class Expectations
{
    /// <summary>A block that is neither zeros nor a whole block of a write that wrote it there.</summary>
    public const long Damaged = -1;

    private readonly Dictionary<long, WriteRecord> _writes;
    private readonly Dictionary<long, List<WriteRecord>> _byBlock = [];

    public Expectations(History history)
    {
        _writes = history.Writes.ToDictionary(w => w.Id);
        foreach (var write in history.Writes)
        {
            for (var b = write.FirstBlock; b < write.FirstBlock + write.Blocks; b++)
            {
                if (!_byBlock.TryGetValue(b, out var list))
                {
                    _byBlock[b] = list = [];
                }

                list.Add(write);
            }
        }

        // A block's writes never overlap in time (one thread per region), so their ids are their order.
        foreach (var list in _byBlock.Values)
        {
            list.Sort((a, b) => a.Id.CompareTo(b.Id));
        }
    }

    /// <summary>Turns a block read back into the id of the write it holds, 0 for zeros, or <see cref="Damaged"/>.</summary>
    public long Classify(ReadOnlySpan<byte> block, long blockIndex)
    {
        var kind = BlockPattern.Identify(block, blockIndex, out var id);
        return kind switch
        {
            BlockPattern.Kind.Zero => 0,
            BlockPattern.Kind.Write when _writes.TryGetValue(id, out var w) && blockIndex >= w.FirstBlock && blockIndex < w.FirstBlock + w.Blocks => id,
            _ => Damaged,
        };
    }

    /// <summary>Every write completed before <paramref name="flush"/> was issued shows, or a later write to the same block.</summary>
    public List<string> CheckFlushed(FlushRecord flush, IReadOnlyDictionary<long, long> visible)
    {
        var problems = new List<string>();
        foreach (var (block, shown) in visible)
        {
            var flushed = _byBlock.TryGetValue(block, out var writes) ? writes.LastOrDefault(w => w.CompleteSeq < flush.StartSeq) : null;
            if (shown == Damaged)
            {
                problems.Add($"block {block} is damaged (torn, misplaced or garbage)");
            }
            else if (flushed is not null && shown < flushed.Id)
            {
                problems.Add(shown == 0
                    ? $"block {block}: write {flushed.Id} ({Describe(flushed)}), completed before FLUSH {flush.Number}, is lost: the block reads zeros"
                    : $"block {block}: write {flushed.Id} ({Describe(flushed)}), completed before FLUSH {flush.Number}, is lost: the block shows the older write {shown} ({Describe(_writes[shown])})");
            }
        }

        return problems;
    }

    /// <summary>
    /// No write shows (itself or a later write over one of its blocks) while a write that had completed before it was
    /// issued is missing from any of its blocks: the journal orders a write after every write that completed before it.
    /// </summary>
    public List<string> CheckPrefix(IReadOnlyDictionary<long, long> visible)
    {
        var problems = new List<string>();
        WriteRecord? newestSeen = null;
        foreach (var write in _writes.Values)
        {
            if (Blocks(write).Any(b => visible.TryGetValue(b, out var shown) && shown >= write.Id)
                && (newestSeen is null || write.IssueSeq > newestSeen.IssueSeq))
            {
                newestSeen = write;
            }
        }

        if (newestSeen is null)
        {
            return problems;
        }

        foreach (var write in _writes.Values.Where(w => w.CompleteSeq < newestSeen.IssueSeq).OrderBy(w => w.Id))
        {
            var missing = Blocks(write).FirstOrDefault(b => !visible.TryGetValue(b, out var shown) || shown < write.Id, -1);
            if (missing >= 0)
            {
                var shown = visible.GetValueOrDefault(missing);
                problems.Add($"not a prefix: write {newestSeen.Id} ({Describe(newestSeen)}) shows, but write {write.Id} ({Describe(write)}), completed before it was issued, " +
                             $"is missing at block {missing} (shows {(shown == 0 ? "zeros" : shown == Damaged ? "damage" : $"write {shown}")})");
            }
        }

        return problems;
    }

    /// <summary>The id of the newest write that shows anywhere, for the report.</summary>
    public static long Newest(IReadOnlyDictionary<long, long> visible) => visible.Values.DefaultIfEmpty(0).Max();

    private static IEnumerable<long> Blocks(WriteRecord write)
    {
        for (var b = write.FirstBlock; b < write.FirstBlock + write.Blocks; b++)
        {
            yield return b;
        }
    }

    private static string Describe(WriteRecord w) => $"{w.Offset}+{w.Length}";
}
