namespace S3Block.Cache.Journal;

/// <summary>
/// Tracks appends that reserved a sequence but have not finished writing, to know the highest sequence below which
/// every record is completely written ("written through"). Only writes up to there may be covered by a sync.
/// </summary>
/// <remarks>
/// Sequences are reserved in order but finish in any order. A ring of done-flags indexed by sequence covers the
/// window (written through, reserved through]; it grows (never shrinks) to the largest number of appends ever in
/// flight at once, which the number of concurrent callers bounds. Not thread-safe: the journal's lock guards it.
/// </remarks>
internal sealed class WriteCompletionWindow(long writtenThrough)
{
    private bool[] _done = new bool[64];

    /// <summary>Every sequence at or below this one is completely written.</summary>
    public long WrittenThrough { get; private set; } = writtenThrough;

    /// <summary>The highest reserved sequence.</summary>
    public long ReservedThrough { get; private set; } = writtenThrough;

    /// <summary>Appends reserved but not yet written.</summary>
    public long InFlight => ReservedThrough - WrittenThrough;

    /// <summary>Records the reservation of the next sequence.</summary>
    public void Begin(long sequence)
    {
        if (sequence != ReservedThrough + 1)
        {
            throw new InvalidOperationException($"Sequence {sequence} reserved out of order (last was {ReservedThrough}).");
        }

        if (sequence - WrittenThrough > _done.Length)
        {
            Grow();
        }

        ReservedThrough = sequence;
    }

    /// <summary>Marks <paramref name="sequence"/> written and advances <see cref="WrittenThrough"/> past every finished one.</summary>
    public void Complete(long sequence)
    {
        if (sequence <= WrittenThrough || sequence > ReservedThrough)
        {
            throw new InvalidOperationException($"Sequence {sequence} is not in flight.");
        }

        _done[Index(sequence)] = true;
        while (WrittenThrough < ReservedThrough && _done[Index(WrittenThrough + 1)])
        {
            _done[Index(WrittenThrough + 1)] = false;
            WrittenThrough++;
        }
    }

    private int Index(long sequence) => (int)(sequence & (_done.Length - 1));

    private void Grow()
    {
        var larger = new bool[_done.Length * 2];
        for (var s = WrittenThrough + 1; s <= ReservedThrough; s++)
        {
            larger[(int)(s & (larger.Length - 1))] = _done[Index(s)];
        }

        _done = larger;
    }
}
