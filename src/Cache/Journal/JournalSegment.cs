using Microsoft.Win32.SafeHandles;

namespace S3Block.Cache.Journal;

/// <summary>An open segment file of a running journal.</summary>
/// <remarks>The mutable properties are guarded by the journal's lock, except <see cref="IsDeleted"/>.</remarks>
internal sealed class JournalSegment(long id, string path, SafeFileHandle handle, int alignment, long endOffset, long lastSequence)
{
    /// <summary>The first sequence, which is also the file name.</summary>
    public long Id { get; } = id;

    /// <summary>Full path.</summary>
    public string Path { get; } = path;

    /// <summary>The open file (read-write for segments created by this instance, read-only for recovered ones).</summary>
    public SafeFileHandle Handle { get; } = handle;

    /// <summary>Record alignment of this segment.</summary>
    public int Alignment { get; } = alignment;

    /// <summary>Offset where the next record goes; also the bytes this segment counts against the capacity.</summary>
    public long EndOffset { get; set; } = endOffset;

    /// <summary>Sequence of the last record reserved in this segment (Id - 1 while empty).</summary>
    public long LastSequence { get; set; } = lastSequence;

    private volatile bool _isDeleted;

    /// <summary>Set by reclaim before the handle is closed, so a racing sync knows why the handle is gone.</summary>
    public bool IsDeleted
    {
        get => _isDeleted;
        set => _isDeleted = value;
    }
}
