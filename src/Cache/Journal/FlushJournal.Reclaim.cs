namespace S3Block.Cache.Journal;

public sealed partial class FlushJournal
{
    private readonly Lock _releaseGate = new();

    /// <summary>
    /// Called when the upload commit covers <paramref name="sequence"/>: deletes every segment whose records are all at
    /// or below it, except the active segment, and wakes appends waiting for space.
    /// </summary>
    /// <remarks>
    /// <para>The sequence is clamped to <see cref="AppendedSequence"/> (nothing still being written is released).
    /// Positions in deleted segments become unreadable.</para>
    /// <para>Deletions are serialized and go oldest first, so the files left on disk after a crash always form a
    /// contiguous run of sequences.</para>
    /// </remarks>
    /// <returns>The number of segment files deleted.</returns>
    public int ReleaseThrough(long sequence)
    {
        var doomed = new List<JournalSegment>();
        lock (_releaseGate)
        {
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_closing, this);
                sequence = Math.Min(sequence, _writes.WrittenThrough);
                if (sequence <= _releasedSequence)
                {
                    return 0;
                }

                _releasedSequence = sequence;
                while (_segments.Count > 0 && _segments[0] != _active && _segments[0].LastSequence <= sequence)
                {
                    var segment = _segments[0];
                    _segments.RemoveAt(0);
                    segment.IsDeleted = true;
                    doomed.Add(segment);
                }

                if (doomed.Count == 0)
                {
                    return 0;
                }

                PublishSegmentsLocked();
            }

            long freed = 0;
            try
            {
                foreach (var segment in doomed)
                {
                    segment.Handle.Dispose();
                    File.Delete(segment.Path);
                    freed += segment.EndOffset;
                }
            }
            finally
            {
                // Count the space free only once the files are gone, then wake the appends waiting for it.
                lock (_lock)
                {
                    _usedBytes -= freed;
                    var spaceFreed = _spaceFreed;
                    _spaceFreed = NewSignalSource();
                    spaceFreed.TrySetResult();
                }
            }
        }

        return doomed.Count;
    }
}
