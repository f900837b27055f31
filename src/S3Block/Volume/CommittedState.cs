namespace S3Block.Volume;

/// <summary>A volume as its store says it is: the descriptor, the chunk map and the newest commit.</summary>
public sealed class CommittedState(VolumeDescriptor descriptor, ChunkMap chunks)
{
    public VolumeDescriptor Descriptor { get; } = descriptor;

    public ChunkMap Chunks { get; } = chunks;

    /// <summary>The newest commit's number; 0 for a volume never written.</summary>
    public long LastCommitNumber { get; private set; }

    /// <summary>The epoch of the writer that published the newest commit; 0 for none.</summary>
    public long LastEpoch { get; private set; }

    /// <summary>The node that published the newest commit.</summary>
    public Guid LastWriterNode { get; private set; }

    /// <summary>The journal sequence the newest commit covers (of <see cref="LastWriterNode"/>'s journal).</summary>
    public long LastJournalSequence { get; private set; }

    /// <summary>When the newest commit was published.</summary>
    public DateTimeOffset? LastCommitTime { get; private set; }

    /// <summary>The newest checkpoint's commit number; 0 for none.</summary>
    public long CheckpointNumber { get; set; }

    /// <summary>Every chunk version the newest checkpoint or a later commit names: what opening may read. Any other
    /// chunk object is an orphan of a crashed upload or superseded garbage.</summary>
    public HashSet<(long Chunk, ChunkVersion Version)> ReferencedVersions { get; } = [];

    /// <summary>Applies a checkpoint or commit read from the store.</summary>
    public void Load(CommitRecord record)
    {
        Chunks.Apply(record.Changes);
        foreach (var change in record.Changes)
        {
            if (!change.Version.IsZero)
            {
                ReferencedVersions.Add((change.ChunkIndex, change.Version));
            }
        }

        Advance(record);
    }

    public void Advance(CommitRecord record)
    {
        LastCommitNumber = record.CommitNumber;
        LastEpoch = Math.Max(LastEpoch, record.Epoch);
        LastWriterNode = record.WriterNode;
        LastJournalSequence = record.JournalSequence;
        LastCommitTime = record.CreatedAt;
    }
}
