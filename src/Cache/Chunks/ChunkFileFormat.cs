using System.Buffers.Binary;
using S3Block.Cache.Integrity;

namespace S3Block.Cache.Chunks;

/// <summary>
/// The on-disk format of one chunk-cache entry, version 2. All integers are little-endian.
/// </summary>
/// <remarks>
/// <code>
///  offset   size field
///   0       4   magic "S3CC" (0x53 0x33 0x43 0x43)
///   4       2   format version = 2
///   6       2   key length K in UTF-8 bytes (1..1024)
///   8       8   data length D in bytes
///  16       4   CRC32C of the data (standard, see Integrity/Crc32C.cs)
///  20       4   CRC32C of the block checksum table
///  24       4   checksum block size B = 4096
///  28       4   CRC32C of bytes 0..27 followed by the key
///  32       K   the key, UTF-8
///  32+K         zeros up to offset 4096
///  4096     D   the chunk image
///  4096+D   4N  the block checksum table: the CRC32C of each B-byte block of the image (the last block may be
///               shorter), N = ceil(D / B)
/// </code>
/// <para>The file is exactly 4096 + D + 4N bytes long. The data starts at 4096 so that a 4 KiB-aligned block of the
/// chunk is one page of the file: a ranged read touches one page-cache page, not two. The price is 4 KiB plus 0.1%
/// per entry (0.2% of a 4 MiB chunk, 6% of a 64 KiB one).</para>
/// <para><b>What the key is.</b> The caller's key; the volume makes it <c>{volume id}/{object key}</c>
/// (S3Block/Volume/VolumeBoundChunkCache.cs), so an entry is bound to the volume that wrote it: a volume re-created
/// under the same name, or the same state folder pointed at another store, never finds the old volume's entries.</para>
/// <para><b>What is verified.</b> Every disk read checks the header (magic, version, key equal to the caller's,
/// header CRC) and that the file length is 4096 + D + 4N, which catches torn, truncated, foreign and misnamed files,
/// and entries of an older format (which are deleted at start-up, never read). A whole-image read checks the data CRC.
/// A ranged read checks the block checksum table once, when it opens the file (against its CRC in the header), and
/// then the CRC32C of exactly the blocks the range touches, on every read: a 4 KiB read costs one 4 KiB checksum,
/// not a read of the whole chunk. A mismatch anywhere is a miss and the entry is deleted. Entries are written to a
/// temp file and renamed, so a crash never leaves a partial image under an entry name.</para>
/// </remarks>
internal static class ChunkFileFormat
{
    public const ushort Version = 2;

    /// <summary>Where the data starts; also the space the header occupies.</summary>
    public const int DataOffset = 4096;

    /// <summary>The fixed fields before the key.</summary>
    public const int FixedSize = 32;

    /// <summary>The size of the blocks the table holds a checksum for (the last block of an image may be shorter).</summary>
    public const int BlockSize = 4096;

    /// <summary>The most header bytes that carry information (fixed fields and the longest key).</summary>
    public const int MaxUsedHeaderSize = FixedSize + ChunkKey.MaxUtf8Bytes;

    private static ReadOnlySpan<byte> Magic => "S3CC"u8;
    private const int BlockSizeOffset = 24;
    private const int HeaderCrcOffset = 28;

    /// <summary>The file length of an entry holding <paramref name="dataLength"/> bytes.</summary>
    public static long FileLength(long dataLength) => DataOffset + dataLength + TableLength(dataLength);

    /// <summary>The number of checksum blocks of an image of <paramref name="dataLength"/> bytes.</summary>
    public static int BlockCount(long dataLength) => checked((int)((dataLength + BlockSize - 1) / BlockSize));

    /// <summary>The bytes of the block checksum table of an image of <paramref name="dataLength"/> bytes.</summary>
    public static int TableLength(long dataLength) => BlockCount(dataLength) * sizeof(uint);

    /// <summary>Where the block checksum table starts in the file.</summary>
    public static long TableOffset(long dataLength) => DataOffset + dataLength;

    /// <summary>Fills <paramref name="table"/> (<see cref="TableLength"/> bytes) with the block checksums of <paramref name="image"/>.</summary>
    public static void WriteTable(Span<byte> table, ReadOnlySpan<byte> image)
    {
        for (var block = 0; block < BlockCount(image.Length); block++)
        {
            var start = block * BlockSize;
            var crc = Crc32C.Compute(image.Slice(start, Math.Min(BlockSize, image.Length - start)));
            BinaryPrimitives.WriteUInt32LittleEndian(table[(block * sizeof(uint))..], crc);
        }
    }

    /// <summary>Parses a table read from a file whose header gave <paramref name="tableCrc"/>; null if it does not verify.</summary>
    public static uint[]? TryReadTable(ReadOnlySpan<byte> table, uint tableCrc)
    {
        if (table.Length % sizeof(uint) != 0 || Crc32C.Compute(table) != tableCrc)
        {
            return null;
        }

        var checksums = new uint[table.Length / sizeof(uint)];
        for (var i = 0; i < checksums.Length; i++)
        {
            checksums[i] = BinaryPrimitives.ReadUInt32LittleEndian(table[(i * sizeof(uint))..]);
        }

        return checksums;
    }

    /// <summary>Fills <paramref name="header"/> (<see cref="DataOffset"/> bytes) for an entry.</summary>
    public static void WriteHeader(Span<byte> header, ReadOnlySpan<byte> keyUtf8, long dataLength, uint dataCrc, uint tableCrc)
    {
        header = header[..DataOffset];
        header.Clear();
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], checked((ushort)keyUtf8.Length));
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], dataLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], dataCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], tableCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(header[BlockSizeOffset..], BlockSize);
        keyUtf8.CopyTo(header[FixedSize..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[HeaderCrcOffset..], HeaderCrc(header, keyUtf8.Length));
    }

    /// <summary>
    /// True when <paramref name="bytes"/> start like an entry of an older version of this format (magic right, version
    /// lower): such a file is not damaged, just unreadable by this version, and is deleted unread.
    /// </summary>
    public static bool IsOlderFormat(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 6 && bytes[..4].SequenceEqual(Magic) && BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]) < Version;

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
            || !TryReadFixed(bytes, keyLength, out var fields))
        {
            return false;
        }

        dataLength = fields.DataLength;
        keyUtf8 = bytes.Slice(FixedSize, keyLength).ToArray();
        return true;
    }

    /// <summary>Checks the header against the key the caller expects, without allocating.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> expectedKey, out HeaderFields fields)
    {
        fields = default;
        return bytes.Length >= FixedSize + expectedKey.Length
            && BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]) == expectedKey.Length
            && bytes.Slice(FixedSize, expectedKey.Length).SequenceEqual(expectedKey)
            && TryReadFixed(bytes, expectedKey.Length, out fields);
    }

    private static bool TryReadFixed(ReadOnlySpan<byte> bytes, int keyLength, out HeaderFields fields)
    {
        fields = new HeaderFields(
            BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[20..]));
        return bytes[..4].SequenceEqual(Magic)
            && BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]) == Version
            && BinaryPrimitives.ReadUInt32LittleEndian(bytes[BlockSizeOffset..]) == BlockSize
            && fields.DataLength >= 0 && fields.DataLength <= Array.MaxLength
            && BinaryPrimitives.ReadUInt32LittleEndian(bytes[HeaderCrcOffset..]) == HeaderCrc(bytes, keyLength);
    }

    private static uint HeaderCrc(ReadOnlySpan<byte> header, int keyLength)
    {
        var state = Crc32C.Update(Crc32C.InitialState, header[..HeaderCrcOffset]);
        state = Crc32C.Update(state, header.Slice(FixedSize, keyLength));
        return Crc32C.Finish(state);
    }

    /// <summary>The header fields a reader needs after the key matched.</summary>
    public readonly record struct HeaderFields(long DataLength, uint DataCrc, uint TableCrc);
}
