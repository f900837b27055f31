namespace S3Block.Cache.Journal;

public sealed partial class FlushJournal
{
    /// <summary>
    /// Reads <c>destination.Length</c> bytes of a record's payload, starting <paramref name="payloadOffset"/> bytes
    /// into it. Works as soon as the append returned, durable or not. No CRC check (replay checked it; see
    /// <see cref="VerifyRecord"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the payload.</exception>
    /// <exception cref="ArgumentException">The record's segment was released (or never existed).</exception>
    public void ReadPayload(JournalPosition position, long payloadOffset, Span<byte> destination)
    {
        var fileOffset = PayloadFileOffset(position, payloadOffset, destination.Length, out var segment);
        SegmentFileIO.ReadExactlyAt(segment.Handle, destination, fileOffset);
    }

    /// <summary>Reads a record's whole payload into <paramref name="destination"/> (exactly <c>PayloadLength</c> bytes).</summary>
    public void ReadPayload(JournalPosition position, Span<byte> destination) =>
        ReadPayload(position, 0, destination[..position.PayloadLength]);

    /// <summary>Asynchronous <see cref="ReadPayload(JournalPosition, long, Span{byte})"/>.</summary>
    public async ValueTask ReadPayloadAsync(
        JournalPosition position,
        long payloadOffset,
        Memory<byte> destination,
        CancellationToken cancellationToken = default)
    {
        var fileOffset = PayloadFileOffset(position, payloadOffset, destination.Length, out var segment);
        var total = 0;
        while (total < destination.Length)
        {
            var read = await RandomAccess.ReadAsync(segment.Handle, destination[total..], fileOffset + total, cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException($"Journal segment {segment.Path} ends inside record {position.Sequence}.");
            }

            total += read;
        }
    }

    /// <summary>
    /// Re-reads a record and checks its header and CRC: for an uploader that wants end-to-end verification before a
    /// PUT. Costs a full read of the record.
    /// </summary>
    public bool VerifyRecord(JournalPosition position)
    {
        var segment = FindSegment(position.SegmentId)
            ?? throw new ArgumentException($"Segment {position.SegmentId} is released or unknown.", nameof(position));
        Span<byte> headerBytes = stackalloc byte[JournalFormat.HeaderSize];
        if (SegmentFileIO.ReadAt(segment.Handle, headerBytes, position.RecordOffset) != headerBytes.Length
            || !RecordHeader.TryRead(headerBytes, out var header, out _)
            || header.Sequence != position.Sequence
            || header.PayloadLength != position.PayloadLength)
        {
            return false;
        }

        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(header.PayloadLength);
        try
        {
            var payload = rented.AsSpan(0, header.PayloadLength);
            return SegmentFileIO.ReadAt(segment.Handle, payload, position.RecordOffset + segment.Alignment) == payload.Length
                && RecordHeader.ComputeCrc(headerBytes, payload) == RecordHeader.StoredCrc(headerBytes);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private long PayloadFileOffset(JournalPosition position, long payloadOffset, int count, out JournalSegment segment)
    {
        if (payloadOffset < 0 || payloadOffset > position.PayloadLength - (long)count)
        {
            throw new ArgumentOutOfRangeException(
                nameof(payloadOffset), payloadOffset, $"Bytes {payloadOffset}..+{count} are outside the {position.PayloadLength}-byte payload.");
        }

        segment = FindSegment(position.SegmentId)
            ?? throw new ArgumentException($"Segment {position.SegmentId} is released or unknown.", nameof(position));
        return position.RecordOffset + segment.Alignment + payloadOffset;
    }

    /// <summary>Finds a live segment by id without taking the lock.</summary>
    private JournalSegment? FindSegment(long id)
    {
        var segments = _segmentSnapshot;
        int low = 0, high = segments.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            var candidate = segments[mid];
            if (candidate.Id == id)
            {
                return candidate;
            }

            if (candidate.Id < id)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return null;
    }
}
