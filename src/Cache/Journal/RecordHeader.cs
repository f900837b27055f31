using System.Buffers.Binary;
using S3Block.Cache.Integrity;

namespace S3Block.Cache.Journal;

/// <summary>The 64-byte record header (layout in <see cref="JournalFormat"/>).</summary>
internal readonly record struct RecordHeader(
    JournalRecordType Type,
    long Sequence,
    long DeviceOffset,
    long Length,
    int PayloadLength,
    long DurableThrough)
{
    /// <summary>Writes the header into the first 64 bytes of <paramref name="destination"/>, with the CRC over it and <paramref name="payload"/>.</summary>
    public void Write(Span<byte> destination, ReadOnlySpan<byte> payload)
    {
        var header = destination[..JournalFormat.HeaderSize];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, JournalFormat.RecordMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], JournalFormat.Version);
        header[6] = (byte)Type;
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], DeviceOffset);
        BinaryPrimitives.WriteInt64LittleEndian(header[24..], Length);
        BinaryPrimitives.WriteInt32LittleEndian(header[32..], PayloadLength);
        BinaryPrimitives.WriteInt64LittleEndian(header[40..], DurableThrough);
        BinaryPrimitives.WriteUInt32LittleEndian(header[JournalFormat.CrcOffset..], ComputeCrc(header, payload));
    }

    /// <summary>CRC32C of header bytes 0..59 followed by the payload.</summary>
    public static uint ComputeCrc(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        var state = Crc32C.Update(Crc32C.InitialState, header[..JournalFormat.CrcOffset]);
        return Crc32C.Finish(Crc32C.Update(state, payload));
    }

    /// <summary>The CRC stored in a header.</summary>
    public static uint StoredCrc(ReadOnlySpan<byte> header) =>
        BinaryPrimitives.ReadUInt32LittleEndian(header[JournalFormat.CrcOffset..]);

    /// <summary>
    /// Decodes and checks everything that does not need the payload: magic, version, type and field consistency.
    /// Sequence order and CRC are the caller's to check.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> header, out RecordHeader result, out JournalDamageReason reason)
    {
        result = default;
        if (header.IndexOfAnyExcept((byte)0) < 0)
        {
            reason = JournalDamageReason.MissingRecord;
            return false;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != JournalFormat.RecordMagic)
        {
            reason = JournalDamageReason.BadMagic;
            return false;
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        if (!JournalFormat.IsReadableVersion(version))
        {
            reason = JournalDamageReason.UnsupportedVersion;
            return false;
        }

        var type = (JournalRecordType)header[6];
        var sequence = BinaryPrimitives.ReadInt64LittleEndian(header[8..]);
        var deviceOffset = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        var length = BinaryPrimitives.ReadInt64LittleEndian(header[24..]);
        var payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(header[32..]);
        var durableThrough = BinaryPrimitives.ReadInt64LittleEndian(header[40..]);
        reason = JournalDamageReason.InvalidHeader;
        var isMark = type == JournalRecordType.SyncMark;

        // A record cannot vouch for itself; a sync mark repeats the previous record's sequence and may cover it.
        var durableLimit = isMark ? sequence : sequence - 1;
        if (header[7] != 0 || sequence < 1 || durableThrough < 0 || durableThrough > durableLimit || payloadLength > int.MaxValue)
        {
            return false;
        }

        var consistent = type switch
        {
            JournalRecordType.Write => payloadLength > 0 && length == payloadLength && IsDeviceRange(deviceOffset, length),
            JournalRecordType.Zero => payloadLength == 0 && length > 0 && IsDeviceRange(deviceOffset, length),
            JournalRecordType.Opaque => true,
            JournalRecordType.SyncMark => version >= 2 && payloadLength == 0 && length == 0 && deviceOffset == 0,
            _ => false,
        };
        if (!consistent)
        {
            return false;
        }

        result = new RecordHeader(type, sequence, deviceOffset, length, (int)payloadLength, durableThrough);
        return true;
    }

    /// <summary>Checks the arguments of an append against the same rules replay applies.</summary>
    public static void ValidateAppend(JournalRecordType type, long deviceOffset, long length, int payloadLength)
    {
        switch (type)
        {
            case JournalRecordType.Write:
                if (payloadLength == 0 || length != payloadLength)
                {
                    throw new ArgumentException("A Write record needs a non-empty payload whose length equals the range length.", nameof(length));
                }

                break;
            case JournalRecordType.Zero:
                if (payloadLength != 0 || length <= 0)
                {
                    throw new ArgumentException("A Zero record has no payload and a positive length.", nameof(length));
                }

                break;
            case JournalRecordType.Opaque:
                return;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown record type.");
        }

        if (!IsDeviceRange(deviceOffset, length))
        {
            throw new ArgumentOutOfRangeException(nameof(deviceOffset), deviceOffset, "The device range is negative or overflows.");
        }
    }

    private static bool IsDeviceRange(long offset, long length) => offset >= 0 && length >= 0 && offset <= long.MaxValue - length;
}
