using System.Text;
using S3Block.Cache.Chunks;
using S3Block.Cache.Integrity;

namespace S3Block.Tests.Chunks;

public sealed class ChunkFileFormatTests
{
    [Fact]
    public void The_checksum_is_standard_crc32c()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0u, Crc32C.Compute([]));

        // Any split into pieces (whole 8-byte words and tails) gives the same value.
        var data = new byte[1000];
        new Random(1).NextBytes(data);
        var whole = Crc32C.Compute(data);
        foreach (var split in new[] { 1, 7, 8, 9, 500, 999 })
        {
            var state = Crc32C.Update(Crc32C.InitialState, data.AsSpan(0, split));
            Assert.Equal(whole, Crc32C.Finish(Crc32C.Update(state, data.AsSpan(split))));
        }
    }

    [Fact]
    public void A_header_reads_back_and_every_single_bit_flip_in_it_is_detected()
    {
        var key = Encoding.UTF8.GetBytes("vol1/chunks/00000000000003a1/00000002-00000000000000000017");
        var header = new byte[ChunkFileFormat.DataOffset];
        ChunkFileFormat.WriteHeader(header, key, 4 << 20, 0xDEADBEEF);

        Assert.True(ChunkFileFormat.TryReadHeader(header, key, out var length, out var crc));
        Assert.Equal((4L << 20, 0xDEADBEEFu), (length, crc));
        Assert.True(ChunkFileFormat.TryReadHeader(header, out var storedKey, out length));
        Assert.Equal(key, storedKey);
        Assert.True(header.AsSpan(ChunkFileFormat.FixedSize + key.Length).IndexOfAnyExcept((byte)0) < 0, "padding is zero");

        for (var bit = 0; bit < (ChunkFileFormat.FixedSize + key.Length) * 8; bit++)
        {
            header[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(ChunkFileFormat.TryReadHeader(header, key, out _, out _), $"bit {bit}");
            Assert.False(ChunkFileFormat.TryReadHeader(header, out _, out _) && !storedKey.AsSpan().SequenceEqual(key), $"bit {bit}");
            header[bit / 8] ^= (byte)(1 << (bit % 8));
        }
    }

    [Fact]
    public void A_header_for_another_key_or_cut_short_does_not_verify()
    {
        var key = "a/b"u8.ToArray();
        var header = new byte[ChunkFileFormat.DataOffset];
        ChunkFileFormat.WriteHeader(header, key, 10, 1);

        Assert.False(ChunkFileFormat.TryReadHeader(header, "a/c"u8, out _, out _));
        Assert.False(ChunkFileFormat.TryReadHeader(header, "a/bc"u8, out _, out _));
        Assert.False(ChunkFileFormat.TryReadHeader(header.AsSpan(0, ChunkFileFormat.FixedSize + 2), key, out _, out _));
        Assert.False(ChunkFileFormat.TryReadHeader(header.AsSpan(0, ChunkFileFormat.FixedSize + 2), out _, out _));
    }

    [Fact]
    public void The_first_bytes_are_the_documented_layout()
    {
        var header = new byte[ChunkFileFormat.DataOffset];
        ChunkFileFormat.WriteHeader(header, "k"u8, 0x0102, 0xAABBCCDD);
        Assert.Equal("S3CC"u8.ToArray(), header[..4]);
        Assert.Equal(new byte[] { 1, 0, 1, 0, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0xDD, 0xCC, 0xBB, 0xAA }, header[4..20]);
        Assert.Equal((byte)'k', header[24]);
    }
}
