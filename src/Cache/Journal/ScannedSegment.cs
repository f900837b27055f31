namespace S3Block.Cache.Journal;

/// <summary>A segment file as replay found it.</summary>
internal sealed class ScannedSegment(long id, string path, long fileLength)
{
    /// <summary>First sequence according to the file name.</summary>
    public long Id { get; } = id;

    /// <summary>Full path.</summary>
    public string Path { get; } = path;

    /// <summary>File length when scanned.</summary>
    public long FileLength { get; } = fileLength;

    /// <summary>The decoded header, when it was valid.</summary>
    public SegmentHeader? Header { get; set; }

    /// <summary>Valid records replayed from this segment.</summary>
    public long RecordCount { get; set; }

    /// <summary>Sequence of the last valid record (Id - 1 when none).</summary>
    public long LastSequence { get; set; }

    /// <summary>Offset just past the last valid record, padding included: where the next record would go.</summary>
    public long ValidEnd { get; set; }

    /// <summary>Where the never-used end of the last segment starts (zeros, nothing valid after), or null.</summary>
    public long? UnusedFrom { get; set; }
}
