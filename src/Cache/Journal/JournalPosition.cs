namespace S3Block.Cache.Journal;

/// <summary>Where an appended record lives, so its payload can be read back.</summary>
/// <param name="Sequence">The record's sequence number.</param>
/// <param name="SegmentId">The segment holding it: the segment's first sequence (its file name).</param>
/// <param name="RecordOffset">File offset of the record's header unit inside the segment.</param>
/// <param name="PayloadLength">Payload bytes (0 for Zero records).</param>
public readonly record struct JournalPosition(long Sequence, long SegmentId, long RecordOffset, int PayloadLength);
