namespace S3Block.Volume;

/// <summary>
/// Tracks sequences completed out of order and reports the highest one below which all are complete, so the uploader
/// never cuts at a position whose earlier writes are still being indexed.
/// </summary>
/// <remarks>Not thread-safe: the volume guards it with its lock.</remarks>
internal sealed class ContiguousSequence(long completedThrough)
{
    private readonly SortedSet<long> _ahead = [];

    public long CompletedThrough { get; private set; } = completedThrough;

    public void Complete(long sequence)
    {
        if (sequence <= CompletedThrough)
        {
            return;
        }

        _ahead.Add(sequence);
        while (_ahead.Count > 0 && _ahead.Min == CompletedThrough + 1)
        {
            CompletedThrough++;
            _ahead.Remove(CompletedThrough);
        }
    }
}
