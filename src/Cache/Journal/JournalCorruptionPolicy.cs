namespace S3Block.Cache.Journal;

/// <summary>What opening does about corruption of records that had been made durable (mid-journal corruption).</summary>
/// <remarks>A torn tail (the normal result of a crash) is always repaired by truncation; this policy is only about damage
/// that proves durable data was lost.</remarks>
public enum JournalCorruptionPolicy
{
    /// <summary>
    /// Throw <see cref="JournalCorruptedException"/> after replay and leave every file untouched, so the refusal
    /// persists across restarts until an operator decides.
    /// </summary>
    Refuse = 1,

    /// <summary>
    /// Keep copies of what is discarded (<c>*.discarded</c> files next to the segments), truncate at the damage and go on
    /// from the last good record. The report says what was lost.
    /// </summary>
    Truncate,
}
