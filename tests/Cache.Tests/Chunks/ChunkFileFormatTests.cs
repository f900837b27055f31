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
        ChunkFileFormat.WriteHeader(header, key, 4 << 20, 0xDEADBEEF, 0x12345678);

        Assert.True(ChunkFileFormat.TryReadHeader(header, key, out var fields));
        Assert.Equal(new ChunkFileFormat.HeaderFields(4L << 20, 0xDEADBEEF, 0x12345678), fields);
        Assert.True(ChunkFileFormat.TryReadHeader(header, out var storedKey, out var length));
        Assert.Equal(4L << 20, length);
        Assert.Equal(key, storedKey);
        Assert.True(header.AsSpan(ChunkFileFormat.FixedSize + key.Length).IndexOfAnyExcept((byte)0) < 0, "padding is zero");

        for (var bit = 0; bit < (ChunkFileFormat.FixedSize + key.Length) * 8; bit++)
        {
            header[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(ChunkFileFormat.TryReadHeader(header, key, out _), $"bit {bit}");
            Assert.False(ChunkFileFormat.TryReadHeader(header, out _, out _) && !storedKey.AsSpan().SequenceEqual(key), $"bit {bit}");
            header[bit / 8] ^= (byte)(1 << (bit % 8));
        }
    }

    [Fact]
    public void A_header_for_another_key_or_cut_short_does_not_verify()
    {
        var key = "a/b"u8.ToArray();
        var header = new byte[ChunkFileFormat.DataOffset];
        ChunkFileFormat.WriteHeader(header, key, 10, 1, 2);

        Assert.False(ChunkFileFormat.TryReadHeader(header, "a/c"u8, out _));
        Assert.False(ChunkFileFormat.TryReadHeader(header, "a/bc"u8, out _));
        Assert.False(ChunkFileFormat.TryReadHeader(header.AsSpan(0, ChunkFileFormat.FixedSize + 2), key, out _));
        Assert.False(ChunkFileFormat.TryReadHeader(header.AsSpan(0, ChunkFileFormat.FixedSize + 2), out _, out _));
    }

    [Fact]
    public void The_first_bytes_are_the_documented_layout()
    {
        var header = new byte[ChunkFileFormat.DataOffset];
        ChunkFileFormat.WriteHeader(header, "k"u8, 0x0102, 0xAABBCCDD, 0x11223344);
        Assert.Equal("S3CC"u8.ToArray(), header[..4]);
        Assert.Equal(new byte[] { 2, 0, 1, 0, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0xDD, 0xCC, 0xBB, 0xAA, 0x44, 0x33, 0x22, 0x11, 0, 0x10, 0, 0 }, header[4..28]);
        Assert.Equal((byte)'k', header[32]);
    }

    [Fact]
    public void The_block_checksum_table_holds_the_crc32c_of_each_4_KiB_block_and_the_short_last_one()
    {
        var image = new byte[(3 * 4096) + 100];
        new Random(2).NextBytes(image);
        var table = new byte[ChunkFileFormat.TableLength(image.Length)];
        ChunkFileFormat.WriteTable(table, image);

        Assert.Equal(16, table.Length);
        Assert.Equal(ChunkFileFormat.DataOffset + image.Length + 16, ChunkFileFormat.FileLength(image.Length));
        var checksums = ChunkFileFormat.TryReadTable(table, Crc32C.Compute(table));
        Assert.NotNull(checksums);
        Assert.Equal(
            [Crc32C.Compute(image.AsSpan(0, 4096)), Crc32C.Compute(image.AsSpan(4096, 4096)), Crc32C.Compute(image.AsSpan(8192, 4096)), Crc32C.Compute(image.AsSpan(12288))],
            checksums);

        table[5] ^= 0x04;
        Assert.Null(ChunkFileFormat.TryReadTable(table, Crc32C.Compute(checksums.SelectMany(BitConverter.GetBytes).ToArray())));
    }

    [Fact]
    public void A_version_1_header_is_recognised_as_an_older_format_and_never_read_as_this_one()
    {
        var header = V1Header("vol1/chunks/0000000000000001/00000001-00000000000000000002"u8, 4096);
        Assert.True(ChunkFileFormat.IsOlderFormat(header));
        Assert.False(ChunkFileFormat.TryReadHeader(header, out _, out _));
        Assert.False(ChunkFileFormat.TryReadHeader(header, "vol1/chunks/0000000000000001/00000001-00000000000000000002"u8, out _));

        var current = new byte[ChunkFileFormat.DataOffset];
        ChunkFileFormat.WriteHeader(current, "k"u8, 1, 2, 3);
        Assert.False(ChunkFileFormat.IsOlderFormat(current));
    }

    /// <summary>A header exactly as format version 1 wrote it (24 fixed bytes: magic, version 1, key length, data length,
    /// data CRC, header CRC over bytes 0..19 and the key; data at 4096, no checksum table).</summary>
    internal static byte[] V1Header(ReadOnlySpan<byte> key, long dataLength, uint dataCrc = 0)
    {
        var header = new byte[ChunkFileFormat.DataOffset];
        "S3CC"u8.CopyTo(header);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), (ushort)key.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), dataLength);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), dataCrc);
        key.CopyTo(header.AsSpan(24));
        var state = Crc32C.Update(Crc32C.InitialState, header.AsSpan(0, 20));
        state = Crc32C.Update(state, key);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), Crc32C.Finish(state));
        return header;
    }
}
