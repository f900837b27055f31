namespace S3Block.Cache.Journal;

/// <summary>Where and why replay stopped.</summary>
/// <param name="SegmentId">The segment's first sequence as given by its file name.</param>
/// <param name="SegmentPath">Full path of the segment file.</param>
/// <param name="FileOffset">Offset in the file of the damaged header unit (0 for a bad segment header).</param>
/// <param name="ExpectedSequence">The sequence the damaged record should have had: the first one not replayed.</param>
/// <param name="Reason">What check failed.</param>
public sealed record JournalDamage(long SegmentId, string SegmentPath, long FileOffset, long ExpectedSequence, JournalDamageReason Reason)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"{Reason} at {SegmentPath} offset {FileOffset} (expected sequence {ExpectedSequence})";
}
