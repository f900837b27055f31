namespace S3Block.Volume;

/// <summary>A snapshot of what an operator asks a volume: how much is not in S3 yet, since when, and how upload goes.</summary>
public sealed record VolumeStatistics
{
    public required string Volume { get; init; }

    public required long Epoch { get; init; }

    /// <summary>Bytes journaled but not yet in S3.</summary>
    public required long DirtyBytes { get; init; }

    public required long DirtyExtents { get; init; }

    public required int DirtyChunks { get; init; }

    /// <summary>How long the oldest write not yet in S3 has waited (the data-loss window if the local disk dies).</summary>
    public required TimeSpan OldestDirtyAge { get; init; }

    public required long LastCommitNumber { get; init; }

    /// <summary>Journal sequence up to which S3 holds everything.</summary>
    public required long CommittedSequence { get; init; }

    /// <summary>Journal sequence up to which every write is journaled and indexed.</summary>
    public required long IndexedSequence { get; init; }

    public required DateTimeOffset? LastCommitTime { get; init; }

    public required long CommitsPublished { get; init; }

    public required long ChunksUploaded { get; init; }

    public required long BytesUploaded { get; init; }

    public required long ChunksZeroed { get; init; }

    public required long StoreRetries { get; init; }

    /// <summary>Chunk fetches other than read-ahead: cache misses of reads, and of the base images of uploads.</summary>
    public required long ChunkFetches { get; init; }

    /// <summary>Chunks fetched ahead of a sequential reader.</summary>
    public required long ReadAheadFetches { get; init; }

    /// <summary>Reads of committed data that waited for a read-ahead's GET in flight (neither a cache hit nor a fetch of their own).</summary>
    public required long ReadAheadJoins { get; init; }

    /// <summary>Chunk PUTs that waited for reads to be served (write-back yields to readers).</summary>
    public required long UploadsYieldedToReads { get; init; }

    /// <summary>Bytes of every chunk fetch (for reads, read-ahead and the base images of uploads).</summary>
    public required long BytesFetched { get; init; }

    public required long CacheHits { get; init; }

    public required long CheckpointsWritten { get; init; }

    public required long GarbageDeleted { get; init; }

    public required long GarbagePending { get; init; }

    /// <summary>Why the volume stopped accepting writes, or null while it is healthy.</summary>
    public required string? Fault { get; init; }

    /// <summary>Why the local journal stopped (a failed write or fdatasync): writes fail with EIO until a restart.</summary>
    public string? JournalFault { get; init; }
}
