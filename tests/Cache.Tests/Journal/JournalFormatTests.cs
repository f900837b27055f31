using System.Buffers.Binary;
using S3Block.Cache.Journal;
using S3Block.Cache.Integrity;

namespace S3Block.Tests.Journal;

public sealed class JournalFormatTests
{
    [Fact]
    public void Record_header_round_trips_and_sits_where_the_format_says()
    {
        var payload = JournalTestKit.Payload(4096, seed: 1);
        var bytes = new byte[64];
        new RecordHeader(JournalRecordType.Write, 42, 8192, 4096, 4096, 40).Write(bytes, payload);

        Assert.Equal("S3JR"u8.ToArray(), bytes[..4]);
        Assert.Equal(2, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(1, bytes[6]);
        Assert.Equal(42, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(8192, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(4096, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(24)));
        Assert.Equal(4096u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(32)));
        Assert.Equal(40, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(40)));
        var crc = Crc32C.Finish(Crc32C.Update(Crc32C.Update(Crc32C.InitialState, bytes.AsSpan(0, 60)), payload));
        Assert.Equal(crc, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(60)));

        Assert.True(RecordHeader.TryRead(bytes, out var header, out _));
        Assert.Equal(new RecordHeader(JournalRecordType.Write, 42, 8192, 4096, 4096, 40), header);
    }

    [Fact]
    public void Segment_header_round_trips_and_sits_where_the_format_says()
    {
        var id = Guid.NewGuid();
        var bytes = new byte[64];
        new SegmentHeader(id, 7, 1000, 512).Write(bytes);

        Assert.Equal("S3JS"u8.ToArray(), bytes[..4]);
        Assert.Equal(id, new Guid(bytes.AsSpan(8, 16)));
        Assert.Equal(7, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(24)));
        Assert.Equal(1000, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(32)));
        Assert.Equal(512, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(40)));
        Assert.Equal(Crc32C.Compute(bytes.AsSpan(0, 60)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(60)));

        Assert.Equal(SegmentHeader.ReadResult.Valid, SegmentHeader.TryRead(bytes, out var header));
        Assert.Equal(new SegmentHeader(id, 7, 1000, 512), header);

        bytes[20] ^= 1;
        Assert.Equal(SegmentHeader.ReadResult.Damaged, SegmentHeader.TryRead(bytes, out _));
    }

    [Theory]
    [InlineData(JournalRecordType.Write, 0, 0, 0)]
    [InlineData(JournalRecordType.Write, 0, 4096, 512)]
    [InlineData(JournalRecordType.Zero, 0, 0, 0)]
    [InlineData(JournalRecordType.Zero, 0, 512, 512)]
    [InlineData(JournalRecordType.Write, -512, 512, 512)]
    public void Inconsistent_records_are_rejected_on_append(JournalRecordType type, long offset, long length, int payloadLength)
    {
        Assert.ThrowsAny<ArgumentException>(() => RecordHeader.ValidateAppend(type, offset, length, payloadLength));
    }

    [Fact]
    public void Segment_file_names_are_the_first_sequence()
    {
        Assert.Equal("00000000000000000042.journal", JournalFormat.SegmentFileName(42));
        Assert.True(JournalFormat.TryParseSegmentFileName("00000000000000000042.journal", out var id));
        Assert.Equal(42, id);
        Assert.False(JournalFormat.TryParseSegmentFileName("00000000000000000042.journal.discarded", out _));
        Assert.False(JournalFormat.TryParseSegmentFileName("journal.lock", out _));
    }

    [Fact]
    public void Record_sizes_are_a_header_unit_plus_the_aligned_payload()
    {
        Assert.Equal(8192, JournalFormat.RecordSize(4096, 4096));
        Assert.Equal(4608, JournalFormat.RecordSize(4096, 512));
        Assert.Equal(4096, JournalFormat.RecordSize(0, 4096));
        Assert.Equal(8192, JournalFormat.RecordSize(1, 4096));
    }
}
