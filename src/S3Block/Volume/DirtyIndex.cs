using S3Block.Cache.Journal;

namespace S3Block.Volume;

/// <summary>
/// Which journaled extents are not yet in S3, per chunk, each chunk's list in journal-sequence order. The journal holds
/// the bytes; this holds only where they are, so dirty data costs RAM per write, not per byte.
/// </summary>
/// <remarks>Not thread-safe: the volume guards it with its lock.</remarks>
internal sealed class DirtyIndex(int chunkSize)
{
    private readonly Dictionary<long, List<DirtyExtent>> _byChunk = [];

    /// <summary>Bytes of journaled writes not yet committed (zeroing counts no bytes).</summary>
    public long DirtyBytes { get; private set; }

    /// <summary>Extents in the index.</summary>
    public long ExtentCount { get; private set; }

    public int DirtyChunkCount => _byChunk.Count;

    /// <summary>Indexes a journal record, split at chunk boundaries.</summary>
    public void Add(long deviceOffset, long length, JournalPosition source, bool isZero, long journaledAt)
    {
        long done = 0;
        while (done < length)
        {
            var offset = deviceOffset + done;
            var chunk = offset / chunkSize;
            var inChunk = (int)(offset % chunkSize);
            var piece = (int)Math.Min(chunkSize - inChunk, length - done);
            Insert(chunk, new DirtyExtent(source.Sequence, inChunk, piece, source, done, isZero, journaledAt));
            done += piece;
        }
    }

    /// <summary>A copy of a chunk's extents (in sequence order), or empty.</summary>
    public DirtyExtent[] Snapshot(long chunk) => _byChunk.TryGetValue(chunk, out var list) ? [.. list] : [];

    /// <summary>The chunks with at least one extent at or below <paramref name="sequence"/>, with those extents.</summary>
    public List<(long Chunk, DirtyExtent[] Extents)> CutAt(long sequence)
    {
        var cut = new List<(long, DirtyExtent[])>();
        foreach (var (chunk, list) in _byChunk)
        {
            var count = CountUpTo(list, sequence);
            if (count > 0)
            {
                cut.Add((chunk, list.GetRange(0, count).ToArray()));
            }
        }

        cut.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return cut;
    }

    /// <summary>Drops a chunk's extents at or below <paramref name="sequence"/> (they are committed).</summary>
    public void RemoveUpTo(long chunk, long sequence)
    {
        if (!_byChunk.TryGetValue(chunk, out var list))
        {
            return;
        }

        var count = CountUpTo(list, sequence);
        for (var i = 0; i < count; i++)
        {
            Account(list[i], -1);
        }

        list.RemoveRange(0, count);
        if (list.Count == 0)
        {
            _byChunk.Remove(chunk);
        }
    }

    /// <summary>The journal timestamp of the oldest dirty extent, or null when clean.</summary>
    public long? OldestJournaledAt()
    {
        long? oldest = null;
        foreach (var list in _byChunk.Values)
        {
            var first = list[0].JournaledAt;
            if (oldest is null || first < oldest)
            {
                oldest = first;
            }
        }

        return oldest;
    }

    private void Insert(long chunk, DirtyExtent extent)
    {
        if (!_byChunk.TryGetValue(chunk, out var list))
        {
            list = [];
            _byChunk[chunk] = list;
        }

        // Appends usually arrive in sequence order; concurrent ones may not, and order is what makes overlaps right.
        var at = list.Count;
        while (at > 0 && list[at - 1].Sequence > extent.Sequence)
        {
            at--;
        }

        list.Insert(at, extent);
        Account(extent, +1);
    }

    private void Account(DirtyExtent extent, int sign)
    {
        ExtentCount += sign;
        if (!extent.IsZero)
        {
            DirtyBytes += sign * (long)extent.Length;
        }
    }

    private static int CountUpTo(List<DirtyExtent> list, long sequence)
    {
        var count = 0;
        while (count < list.Count && list[count].Sequence <= sequence)
        {
            count++;
        }

        return count;
    }
}
