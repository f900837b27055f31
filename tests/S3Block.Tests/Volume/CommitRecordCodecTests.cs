using S3Block.Volume;

namespace S3Block.Tests.Volume;

public sealed class CommitRecordCodecTests
{
    private static CommitRecord Sample(int entries) => new()
    {
        Kind = CommitKind.Commit,
        VolumeId = Guid.NewGuid(),
        CommitNumber = 42,
        Epoch = 7,
        WriterNode = Guid.NewGuid(),
        JournalSequence = 123_456,
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123),
        Changes = [.. Enumerable.Range(0, entries).Select(i => new ChunkChange(i * 3, i % 2 == 0 ? ChunkVersion.Zero : new ChunkVersion(7, 40 + i)))],
    };

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1000)]
    public void Records_round_trip(int entries)
    {
        var record = Sample(entries);

        var decoded = CommitRecordCodec.Decode(CommitRecordCodec.Encode(record), "test");

        Assert.Equal(record with { Changes = [] }, decoded with { Changes = [] });
        Assert.Equal(record.Changes, decoded.Changes);
    }

    [Fact]
    public void Every_single_bit_flip_is_detected()
    {
        var encoded = CommitRecordCodec.Encode(Sample(3));

        for (var bit = 0; bit < encoded.Length * 8; bit++)
        {
            var damaged = (byte[])encoded.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<InvalidDataException>(() => CommitRecordCodec.Decode(damaged, "test"));
        }
    }

    [Fact]
    public void Truncation_is_detected()
    {
        var encoded = CommitRecordCodec.Encode(Sample(3));

        for (var length = 0; length < encoded.Length; length++)
        {
            Assert.Throws<InvalidDataException>(() => CommitRecordCodec.Decode(encoded.AsSpan(0, length), "test"));
        }
    }

    [Fact]
    public void Chunk_keys_parse_back_and_sort_by_chunk_then_version()
    {
        var keys = new VolumeKeys("vol-1");
        var key = keys.Chunk(0x3a1, new ChunkVersion(2, 17));

        Assert.Equal("vol-1/chunks/00000000000003a1/00000002-00000000000000000017", key);
        Assert.True(keys.TryParseChunk(key, out var chunk, out var version));
        Assert.Equal(0x3a1, chunk);
        Assert.Equal(new ChunkVersion(2, 17), version);
        Assert.Equal(17, VolumeKeys.NumberFromKey(keys.Commit(17)));
        Assert.Null(VolumeKeys.NumberFromKey(keys.Lease));
    }

    [Theory]
    [InlineData("")]
    [InlineData("UPPER")]
    [InlineData("-leading")]
    [InlineData("has/slash")]
    [InlineData("has.dot")]
    public void Bad_volume_names_are_refused(string name)
    {
        Assert.Throws<ArgumentException>(() => new VolumeKeys(name));
    }
}
