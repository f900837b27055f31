namespace S3Block.Cache.Journal;

/// <summary>A record found valid during replay.</summary>
/// <param name="Type">What the record stands for.</param>
/// <param name="DeviceOffset">Device offset in bytes (Opaque: the volume's value).</param>
/// <param name="Length">Length of the device range in bytes (Opaque: the volume's value).</param>
/// <param name="Position">Sequence and location, for <see cref="FlushJournal.ReadPayload(JournalPosition, long, Span{byte})"/>.</param>
public readonly record struct JournalRecord(JournalRecordType Type, long DeviceOffset, long Length, JournalPosition Position)
{
    /// <summary>The record's sequence number.</summary>
    public long Sequence => Position.Sequence;
}

/// <summary>
/// Receives each valid record during replay, in sequence order. <paramref name="payload"/> is the record's payload
/// (already CRC-checked) and is valid only during the call.
/// </summary>
public delegate void JournalReplayHandler(in JournalRecord record, ReadOnlySpan<byte> payload);
