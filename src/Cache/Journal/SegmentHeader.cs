using System.Buffers.Binary;
using S3Block.Cache.Integrity;

namespace S3Block.Cache.Journal;

/// <summary>The 64-byte segment header (layout in <see cref="JournalFormat"/>).</summary>
internal readonly record struct SegmentHeader(Guid VolumeId, long WriterEpoch, long FirstSequence, int Alignment)
{
    /// <summary>Writes the header, CRC included, into the first 64 bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        var header = destination[..JournalFormat.HeaderSize];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, JournalFormat.SegmentMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], JournalFormat.Version);
        if (!VolumeId.TryWriteBytes(header.Slice(8, 16)))
        {
            throw new InvalidOperationException("A Guid is 16 bytes.");
        }

        BinaryPrimitives.WriteInt64LittleEndian(header[24..], WriterEpoch);
        BinaryPrimitives.WriteInt64LittleEndian(header[32..], FirstSequence);
        BinaryPrimitives.WriteInt32LittleEndian(header[40..], Alignment);
        BinaryPrimitives.WriteUInt32LittleEndian(header[JournalFormat.CrcOffset..], Crc32C.Compute(header[..JournalFormat.CrcOffset]));
    }

    /// <summary>The outcome of reading a segment header.</summary>
    public enum ReadResult
    {
        /// <summary>A valid header of a version this code reads.</summary>
        Valid,

        /// <summary>Short, bad magic, bad CRC or bad fields: damage.</summary>
        Damaged,

        /// <summary>A well-formed header (magic and CRC right) of a format version this code does not know.</summary>
        UnsupportedVersion,
    }

    /// <summary>Decodes and checks a segment header (magic, CRC, version, alignment, first sequence).</summary>
    public static ReadResult TryRead(ReadOnlySpan<byte> bytes, out SegmentHeader header)
    {
        header = default;
        if (bytes.Length < JournalFormat.HeaderSize
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != JournalFormat.SegmentMagic
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes[JournalFormat.CrcOffset..]) != Crc32C.Compute(bytes[..JournalFormat.CrcOffset]))
        {
            return ReadResult.Damaged;
        }

        if (!JournalFormat.IsReadableVersion(BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..])))
        {
            return ReadResult.UnsupportedVersion;
        }

        var volumeId = new Guid(bytes.Slice(8, 16));
        var epoch = BinaryPrimitives.ReadInt64LittleEndian(bytes[24..]);
        var firstSequence = BinaryPrimitives.ReadInt64LittleEndian(bytes[32..]);
        var alignment = BinaryPrimitives.ReadInt32LittleEndian(bytes[40..]);
        if (!JournalFormat.IsSupportedAlignment(alignment) || firstSequence < 1 || epoch < 0)
        {
            return ReadResult.Damaged;
        }

        header = new SegmentHeader(volumeId, epoch, firstSequence, alignment);
        return ReadResult.Valid;
    }
}
