namespace S3Block.Cache.Chunks;

/// <summary>One entry of the disk tier's index: which file, how big, and its place in the LRU list.</summary>
/// <remarks>Identity matters: code that looked an entry up and later finds its file damaged removes it only if the
/// index still holds this very object, so it can never delete a newer file put under the same name meanwhile.</remarks>
internal sealed class DiskEntry
{
    private int _diskHitsSincePromotion;

    public DiskEntry(UInt128 digest, long dataLength, long lastStampTicks)
    {
        Digest = digest;
        DataLength = dataLength;
        LastStampTicks = lastStampTicks;
        Node = new LinkedListNode<DiskEntry>(this);
    }

    public UInt128 Digest { get; }

    /// <summary>The image length; the file is <see cref="FileLength"/> bytes.</summary>
    public long DataLength { get; }

    public long FileLength => ChunkFileFormat.FileLength(DataLength);

    /// <summary>This entry's node in the LRU list (allocated once, moved on every use).</summary>
    public LinkedListNode<DiskEntry> Node { get; }

    /// <summary>When the file's mtime was last set to mark a use (UTC ticks). Guarded by the disk tier's lock.</summary>
    public long LastStampTicks { get; set; }

    /// <summary>Counts a ranged hit; true once every <paramref name="promoteAfter"/> hits, when the caller should load
    /// the whole image into the RAM tier. Exactly one of concurrent callers gets true.</summary>
    public bool CountHitAndCheckPromotion(int promoteAfter) =>
        promoteAfter > 0 && Interlocked.Increment(ref _diskHitsSincePromotion) % promoteAfter == 0;
}
