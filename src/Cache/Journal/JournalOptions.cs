namespace S3Block.Cache.Journal;

/// <summary>Settings of a <see cref="FlushJournal"/>. Validated by <see cref="FlushJournal.Open"/>.</summary>
public sealed class JournalOptions
{
    /// <summary>Size of one segment file in bytes. Default 64 MiB. At least 8 alignment units, at most 1 GiB.</summary>
    /// <remarks>The largest payload one record can carry is this minus two alignment units.</remarks>
    public long SegmentSizeBytes { get; set; } = 64L << 20;

    /// <summary>
    /// Most bytes the journal may occupy. Default 4 GiB. At least two segments, so that releasing everything
    /// except the active segment always leaves room to go on.
    /// </summary>
    public long CapacityBytes { get; set; } = 4L << 30;

    /// <summary>Record alignment for new segments: 4096 (default) or 512. See <see cref="JournalFormat"/> for the trade-off.</summary>
    public int RecordAlignment { get; set; } = 4096;

    /// <summary>
    /// Fill ratio (0 &lt; x ≤ 1, default 0.8) above which appends are delayed, by a delay that grows linearly
    /// from 1 ms to <see cref="MaxThrottleDelay"/> as the journal fills up.
    /// </summary>
    public double HighWaterMark { get; set; } = 0.8;

    /// <summary>The delay of an append when the journal is just short of full. Default 10 ms.</summary>
    public TimeSpan MaxThrottleDelay { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>What <see cref="FlushJournal.Open"/> does when replay finds corrupted durable records. Default: refuse.</summary>
    public JournalCorruptionPolicy MidJournalCorruption { get; set; } = JournalCorruptionPolicy.Refuse;

    /// <summary>
    /// Open a journal although an fdatasync of it failed earlier in this boot (<see cref="JournalSyncFailure"/>),
    /// keeping what the page cache holds. Default false: such an open throws <see cref="JournalSyncFailedException"/>.
    /// </summary>
    public bool AcceptSyncFailure { get; set; }

    /// <summary>How often an append that waits for a full disk tries again to create its segment. Default 1 s.</summary>
    public TimeSpan DiskFullRetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Keep the next segment ready as a file of durable zeros (default true), so records land in written blocks and each
    /// fdatasync writes data only. Costs one segment of disk space and the zeros' writes. Ignored on copy-on-write file
    /// systems (btrfs, ZFS), where an overwrite allocates anyway, and while less than three segments' worth is free.
    /// </summary>
    public bool PrepareSpareSegment { get; set; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (!JournalFormat.IsSupportedAlignment(RecordAlignment))
        {
            throw new ArgumentException($"RecordAlignment must be 512 or 4096, not {RecordAlignment}.", nameof(RecordAlignment));
        }

        if (SegmentSizeBytes < 8L * RecordAlignment || SegmentSizeBytes > 1L << 30 || SegmentSizeBytes % RecordAlignment != 0)
        {
            throw new ArgumentException(
                $"SegmentSizeBytes must be a multiple of RecordAlignment between {8 * RecordAlignment} and 1 GiB, not {SegmentSizeBytes}.",
                nameof(SegmentSizeBytes));
        }

        if (CapacityBytes < 2 * SegmentSizeBytes)
        {
            throw new ArgumentException($"CapacityBytes must be at least two segments ({2 * SegmentSizeBytes}), not {CapacityBytes}.", nameof(CapacityBytes));
        }

        if (!(HighWaterMark > 0 && HighWaterMark <= 1))
        {
            throw new ArgumentException($"HighWaterMark must be in (0, 1], not {HighWaterMark}.", nameof(HighWaterMark));
        }

        if (MaxThrottleDelay < TimeSpan.FromMilliseconds(1) || MaxThrottleDelay > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentException($"MaxThrottleDelay must be between 1 ms and 10 s, not {MaxThrottleDelay}.", nameof(MaxThrottleDelay));
        }

        if (!Enum.IsDefined(MidJournalCorruption))
        {
            throw new ArgumentException($"Unknown MidJournalCorruption policy {MidJournalCorruption}.", nameof(MidJournalCorruption));
        }
    }

    /// <summary>The largest payload a record can carry in a new segment.</summary>
    internal long MaxPayloadBytes => SegmentSizeBytes - 2L * RecordAlignment;
}
