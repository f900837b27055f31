namespace S3Block.Cache.Journal;

/// <summary>The outcome of <see cref="JournalScanner.Scan"/>: what was found, before any repair.</summary>
internal sealed class JournalScan
{
    /// <summary>All segment files, in sequence order.</summary>
    public required IReadOnlyList<ScannedSegment> Segments { get; init; }

    /// <summary>Index in <see cref="Segments"/> of the damaged segment, or -1.</summary>
    public required int DamagedIndex { get; init; }

    /// <summary>The first damage, or null.</summary>
    public required JournalDamage? Damage { get; init; }

    /// <summary>Classification of <see cref="Damage"/>.</summary>
    public required JournalDamageKind DamageKind { get; init; }

    /// <summary>Valid records found after the damage.</summary>
    public required long ValidRecordsAfterDamage { get; init; }

    /// <summary>Records replayed.</summary>
    public required long RecordsReplayed { get; init; }

    /// <summary>First replayed sequence, or null.</summary>
    public required long? FirstSequence { get; init; }

    /// <summary>Sequence after the last replayed record; null when no segment had a valid header.</summary>
    public required long? NextSequence { get; init; }

    /// <summary>Highest writer epoch among valid segment headers.</summary>
    public required long? HighestWriterEpoch { get; init; }
}
