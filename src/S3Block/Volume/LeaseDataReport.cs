namespace S3Block.Volume;

/// <summary>What the holder records in its lease about data it holds that S3 does not.</summary>
/// <param name="State">Clean, dirty or opening.</param>
/// <param name="CommittedThrough">The newest commit: S3 holds the volume as of it, the unsynced data is newer.</param>
/// <param name="UnsyncedBytes">Bytes not yet in S3 (0 when clean).</param>
/// <param name="UnsyncedSinceUnixMs">When the oldest of them was written (0 when clean).</param>
public readonly record struct LeaseDataReport(LeaseDataState State, long CommittedThrough, long UnsyncedBytes, long UnsyncedSinceUnixMs)
{
    /// <summary>What a holder records before it knows its journal: possibly dirty.</summary>
    public static LeaseDataReport Opening(long committedThrough) => new(LeaseDataState.Opening, committedThrough, 0, 0);
}
