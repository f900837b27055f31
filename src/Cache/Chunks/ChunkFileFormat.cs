using System.Buffers.Binary;
using S3Block.Cache.Integrity;

namespace S3Block.Cache.Chunks;

/// <summary>
/// The on-disk format of one chunk-cache entry, version 1. All integers are little-endian.
/// </summary>
/// <remarks>
/// <code>
///  offset size field
///   0     4   magic "S3CC" (0x53 0x33 0x43 0x43)
///   4     2   format version = 1
///   6     2   key length K in UTF-8 bytes (1..1024)
///   8     8   data length D in bytes
///  16     4   CRC32C of the data (standard, see Integrity/Crc32C.cs)
///  20     4   CRC32C of bytes 0..19 followed by the key
///  24     K   the key, UTF-8
///  24+K       zeros up to offset 4096
///  4096   D   the chunk image
/// </code>
/// <para>The file is exactly 4096 + D bytes long. The data starts at 4096 so that a 4 KiB-aligned block of the chunk
/// is one page of the file: a ranged read touches one page-cache page, not two. The price is 4 KiB per entry
/// (0.1% of a 4 MiB chunk, 6% of a 64 KiB one).</para>
/// <para><b>What is verified.</b> Every disk read checks the header (magic, version, key equal to the caller's,
/// header CRC) and that the file length is 4096 + D, which catches torn, truncated, foreign and misnamed files.
/// The data CRC is checked only when the whole image is read: checking it for a 4 KiB read would mean reading and
/// checksumming the whole 4 MiB chunk, which defeats the point of a ranged read. A ranged read therefore trusts the
/// data bytes of an entry whose header and length are right; silent bit rot inside the data is caught on the next
/// whole read (every read-modify-write and every promotion to the RAM tier reads the whole image). Entries are
/// written to a temp file and renamed, so a crash never leaves a partial image under an entry name.</para>
/// </remarks>
internal static class ChunkFileFormat
{
    public const ushort Version = 1;

    /// <summary>Where the data starts; also the space the header occupies.</summary>
    public const int DataOffset = 4096;

    /// <summary>The fixed fields before the key.</summary>
    public const int FixedSize = 24;

    /// <summary>The most header bytes that carry information (fixed fields and the longest key).</summary>
    public const int MaxUsedHeaderSize = FixedSize + ChunkKey.MaxUtf8Bytes;

    private static ReadOnlySpan<byte> Magic => "S3CC"u8;
    private const int HeaderCrcOffset = 20;

    /// <summary>The file length of an entry holding <paramref name="dataLength"/> bytes.</summary>
    public static long FileLength(long dataLength) => DataOffset + dataLength;

    /// <summary>Fills <paramref name="header"/> (<see cref="DataOffset"/> bytes) for an entry.</summary>
    public static void WriteHeader(Span<byte> header, ReadOnlySpan<byte> keyUtf8, long dataLength, uint dataCrc)
    {
        header = header[..DataOffset];
        header.Clear();
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], checked((ushort)keyUtf8.Length));
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], dataLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], dataCrc);
        keyUtf8.CopyTo(header[FixedSize..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[HeaderCrcOffset..], HeaderCrc(header, keyUtf8.Length));
    }

    /// <summary>
    /// Checks the header at the start of <paramref name="bytes"/> and returns the key and data length. <paramref name="bytes"/> must
    /// hold the fixed fields and the whole key (when it is shorter, the header is reported bad).
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> bytes, out byte[] keyUtf8, out long dataLength)
    {
        keyUtf8 = [];
        dataLength = 0;
        if (bytes.Length < FixedSize)
        {
            return false;
        }

        int keyLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]);
        if (keyLength is 0 or > ChunkKey.MaxUtf8Bytes || bytes.Length < FixedSize + keyLength
            || !TryReadFixed(bytes, keyLength, out dataLength, out _))
        {
            return false;
        }

        keyUtf8 = bytes.Slice(FixedSize, keyLength).ToArray();
        return true;
    }

    /// <summary>Checks the header against the key the caller expects, without allocating.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> expectedKey, out long dataLength, out uint dataCrc)
    {
        dataLength = 0;
        dataCrc = 0;
        if (bytes.Length < FixedSize + expectedKey.Length
            || BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]) != expectedKey.Length
            || !bytes.Slice(FixedSize, expectedKey.Length).SequenceEqual(expectedKey)
            || !TryReadFixed(bytes, expectedKey.Length, out dataLength, out dataCrc))
        {
            return false;
        }

        return true;
    }

    private static bool TryReadFixed(ReadOnlySpan<byte> bytes, int keyLength, out long dataLength, out uint dataCrc)
    {
        dataLength = BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]);
        dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes[16..]);
        return bytes[..4].SequenceEqual(Magic)
            && BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]) == Version
            && dataLength >= 0 && dataLength <= Array.MaxLength
            && BinaryPrimitives.ReadUInt32LittleEndian(bytes[HeaderCrcOffset..]) == HeaderCrc(bytes, keyLength);
    }

    private static uint HeaderCrc(ReadOnlySpan<byte> header, int keyLength)
    {
        var state = Crc32C.Update(Crc32C.InitialState, header[..HeaderCrcOffset]);
        state = Crc32C.Update(state, header.Slice(FixedSize, keyLength));
        return Crc32C.Finish(state);
    }
}
