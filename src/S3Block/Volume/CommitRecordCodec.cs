using System.Buffers.Binary;
using S3Block.Cache.Integrity;

namespace S3Block.Volume;

/// <summary>Encodes and decodes <see cref="CommitRecord"/> in the binary, CRC32C-protected form of docs/volume-format.md.</summary>
public static class CommitRecordCodec
{
    private const int Version = 1;
    private const int HeaderSize = 8 + 4 + 4 + 16 + 8 + 8 + 16 + 8 + 8 + 8;
    private const int EntrySize = 24;
    private static ReadOnlySpan<byte> Magic => "S3BCOMIT"u8;

    public static byte[] Encode(CommitRecord record)
    {
        var buffer = new byte[HeaderSize + (record.Changes.Count * EntrySize) + 4];
        var span = buffer.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], (int)record.Kind);
        record.VolumeId.TryWriteBytes(span[16..32]);
        BinaryPrimitives.WriteInt64LittleEndian(span[32..], record.CommitNumber);
        BinaryPrimitives.WriteInt64LittleEndian(span[40..], record.Epoch);
        record.WriterNode.TryWriteBytes(span[48..64]);
        BinaryPrimitives.WriteInt64LittleEndian(span[64..], record.JournalSequence);
        BinaryPrimitives.WriteInt64LittleEndian(span[72..], record.CreatedAt.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt64LittleEndian(span[80..], record.Changes.Count);
        var at = HeaderSize;
        foreach (var change in record.Changes)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], change.ChunkIndex);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 8)..], change.Version.Epoch);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 16)..], change.Version.Commit);
            at += EntrySize;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], Crc32C.Compute(span[..at]));
        return buffer;
    }

    /// <summary>Decodes and verifies a record; throws <see cref="InvalidDataException"/> on any damage.</summary>
    public static CommitRecord Decode(ReadOnlySpan<byte> data, string source)
    {
        if (data.Length < HeaderSize + 4 || !data[..8].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{source}: not a commit record (bad magic or too short)");
        }

        var crcAt = data.Length - 4;
        if (Crc32C.Compute(data[..crcAt]) != BinaryPrimitives.ReadUInt32LittleEndian(data[crcAt..]))
        {
            throw new InvalidDataException($"{source}: CRC mismatch (damaged commit record)");
        }

        var version = BinaryPrimitives.ReadInt32LittleEndian(data[8..]);
        if (version != Version)
        {
            throw new InvalidDataException($"{source}: commit record format {version} is not supported");
        }

        var count = BinaryPrimitives.ReadInt64LittleEndian(data[80..]);
        if (count < 0 || HeaderSize + (count * EntrySize) != crcAt)
        {
            throw new InvalidDataException($"{source}: entry count {count} does not match the record's length");
        }

        var changes = new ChunkChange[count];
        for (var i = 0; i < count; i++)
        {
            var entry = data.Slice(HeaderSize + (i * EntrySize), EntrySize);
            changes[i] = new ChunkChange(
                BinaryPrimitives.ReadInt64LittleEndian(entry),
                new ChunkVersion(BinaryPrimitives.ReadInt64LittleEndian(entry[8..]), BinaryPrimitives.ReadInt64LittleEndian(entry[16..])));
        }

        return new CommitRecord
        {
            Kind = (CommitKind)BinaryPrimitives.ReadInt32LittleEndian(data[12..]),
            VolumeId = new Guid(data[16..32]),
            CommitNumber = BinaryPrimitives.ReadInt64LittleEndian(data[32..]),
            Epoch = BinaryPrimitives.ReadInt64LittleEndian(data[40..]),
            WriterNode = new Guid(data[48..64]),
            JournalSequence = BinaryPrimitives.ReadInt64LittleEndian(data[64..]),
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(data[72..])),
            Changes = changes,
        };
    }
}
