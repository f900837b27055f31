namespace S3Block.Cache.Journal;

/// <summary>How replay classified the first damage it found.</summary>
public enum JournalDamageKind
{
    /// <summary>No damage: every byte of every segment belonged to a valid record.</summary>
    None = 0,

    /// <summary>
    /// The damage is what a crash leaves: nothing after it was ever covered by a completed sync. Records after it
    /// (see <see cref="JournalReplayReport.ValidRecordsAfterDamage"/>) may exist; they were acknowledged only as
    /// volatile writes and are discarded.
    /// </summary>
    TornTail,

    /// <summary>
    /// A valid record after the damage proves the damaged record had been fsync'ed: durable data was lost
    /// (bit rot, a bad disk, or tampering). The daemon should refuse to serve unless forced.
    /// </summary>
    MidJournalCorruption,
}
