namespace S3Block.Volume;

/// <summary>
/// One published step of the volume's history: as of journal position <see cref="JournalSequence"/> of the writer
/// <see cref="WriterNode"/>, the chunks in <see cref="Changes"/> have these versions. A checkpoint has the same shape
/// and lists every non-zero chunk. Format in docs/volume-format.md.
/// </summary>
public sealed record CommitRecord
{
    public required CommitKind Kind { get; init; }

    public required Guid VolumeId { get; init; }

    public required long CommitNumber { get; init; }

    public required long Epoch { get; init; }

    public required Guid WriterNode { get; init; }

    public required long JournalSequence { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required IReadOnlyList<ChunkChange> Changes { get; init; }
}

/// <summary>A chunk's new version in a commit (or its version in a checkpoint).</summary>
public readonly record struct ChunkChange(long ChunkIndex, ChunkVersion Version);

public enum CommitKind
{
    Commit = 1,
    Checkpoint = 2,
}
