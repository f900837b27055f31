namespace S3Block.Cache.Journal;

/// <summary>What <see cref="FlushJournal.Open"/> found and did.</summary>
public sealed record JournalReplayReport
{
    /// <summary>Segment files read.</summary>
    public required int SegmentsScanned { get; init; }

    /// <summary>Valid records handed to the replay handler.</summary>
    public required long RecordsReplayed { get; init; }

    /// <summary>Sequence of the first replayed record, or null when none was.</summary>
    public required long? FirstSequence { get; init; }

    /// <summary>Sequence of the last replayed record, or null when none was.</summary>
    public required long? LastSequence { get; init; }

    /// <summary>The sequence the next append gets.</summary>
    public required long NextSequence { get; init; }

    /// <summary>Highest writer epoch found in a segment header, or null when there was no segment.</summary>
    public required long? HighestWriterEpoch { get; init; }

    /// <summary>Classification of <see cref="Damage"/>.</summary>
    public required JournalDamageKind DamageKind { get; init; }

    /// <summary>The first damaged place, or null when the journal was clean.</summary>
    public required JournalDamage? Damage { get; init; }

    /// <summary>Well-formed records (valid CRC) found after the damage; they are not replayed.</summary>
    public required long ValidRecordsAfterDamage { get; init; }

    /// <summary>Bytes cut off or deleted by the repair (0 when nothing was modified).</summary>
    public required long BytesDiscarded { get; init; }

    /// <summary>Copies of discarded data kept by <see cref="JournalCorruptionPolicy.Truncate"/> (full paths).</summary>
    public required IReadOnlyList<string> PreservedCopies { get; init; }

    /// <summary>True if any file was truncated, deleted or copied.</summary>
    public bool Repaired => BytesDiscarded > 0 || PreservedCopies.Count > 0;
}
