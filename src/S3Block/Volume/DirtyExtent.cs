using S3Block.Cache.Journal;

namespace S3Block.Volume;

/// <summary>
/// A journaled write or zeroing that is not yet in S3, clipped to one chunk.
/// </summary>
/// <param name="Sequence">The journal record's sequence: the order in which extents apply.</param>
/// <param name="OffsetInChunk">Where in the chunk it starts.</param>
/// <param name="Length">How many bytes it covers.</param>
/// <param name="Source">The journal record holding the data (unused for zeroing).</param>
/// <param name="PayloadOffset">Where this chunk's part starts inside the record's payload.</param>
/// <param name="IsZero">True for TRIM / WRITE_ZEROES: the range reads as zeros.</param>
/// <param name="JournaledAt">When it was journaled (<see cref="TimeProvider.GetTimestamp"/>), for the data-loss window.</param>
public readonly record struct DirtyExtent(long Sequence, int OffsetInChunk, int Length, JournalPosition Source, long PayloadOffset, bool IsZero, long JournaledAt)
{
    public int End => OffsetInChunk + Length;

    public bool Covers(int offset, int length) => OffsetInChunk <= offset && End >= offset + length;

    public bool Overlaps(int offset, int length) => OffsetInChunk < offset + length && offset < End;
}
