using System.Buffers.Binary;
using System.Text;

namespace S3Block.Tests.PowerCut;

/// <summary>One entry of a dm-log-writes log.</summary>
/// <param name="Index">0-based position in the log.</param>
/// <param name="Sector">Target sector, in units of the log's sector size.</param>
/// <param name="Sectors">Length in sectors (a discard's range; a write's data follows the entry in the log).</param>
/// <param name="Flags">FLUSH, FUA, DISCARD, MARK bits.</param>
/// <param name="DataOffset">Byte offset of the write's data in the log.</param>
/// <param name="Mark">A mark's name.</param>
internal readonly record struct WriteLogEntry(long Index, long Sector, long Sectors, ulong Flags, long DataOffset, string? Mark)
{
    public const ulong FlushFlag = 1 << 0;
    public const ulong FuaFlag = 1 << 1;
    public const ulong DiscardFlag = 1 << 2;
    public const ulong MarkFlag = 1 << 3;

    public bool IsMark => (Flags & MarkFlag) != 0;

    public bool IsDiscard => (Flags & DiscardFlag) != 0;
}

/// <summary>
/// Reads a dm-log-writes log (the kernel's Documentation/admin-guide/device-mapper/log-writes.rst and
/// drivers/md/dm-log-writes.c). Sector 0 holds the super block (magic, version, number of entries, sector size, all
/// little endian); entries follow from the second sector on, each one sector long: <c>sector, nr_sectors, flags,
/// data_len</c> (64 bits each) then, for a mark, its name. A write's data (<c>nr_sectors</c> sectors) follows its
/// entry; a discard, a flush without data and a mark have none. Writes are logged only once a FLUSH covered them, so
/// replaying up to a mark rebuilds the disk as a power cut right then would have left it with every unflushed write lost.
/// </summary>
internal sealed class WriteLog : IDisposable
{
    private const ulong Magic = 0x6a736677736872;
    private readonly FileStream _log;

    public WriteLog(string path)
    {
        _log = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20);
        Span<byte> super = stackalloc byte[28];
        _log.ReadExactly(super);
        if (BinaryPrimitives.ReadUInt64LittleEndian(super) != Magic)
        {
            throw new InvalidDataException($"{path} is not a dm-log-writes log (magic {BinaryPrimitives.ReadUInt64LittleEndian(super):x})");
        }

        var version = BinaryPrimitives.ReadUInt64LittleEndian(super[8..]);
        if (version != 1)
        {
            throw new InvalidDataException($"{path}: dm-log-writes log version {version}, expected 1");
        }

        EntryCount = (long)BinaryPrimitives.ReadUInt64LittleEndian(super[16..]);
        SectorSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(super[24..]);
    }

    public long EntryCount { get; }

    public int SectorSize { get; }

    /// <summary>The entries in log order. Reading data (<see cref="ReadData"/>) between steps is allowed.</summary>
    public IEnumerable<WriteLogEntry> Entries()
    {
        var entry = new byte[SectorSize];
        long position = SectorSize;
        for (long i = 0; i < EntryCount; i++)
        {
            _log.Position = position;
            _log.ReadExactly(entry);
            var sector = (long)BinaryPrimitives.ReadUInt64LittleEndian(entry);
            var sectors = (long)BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(8));
            var flags = BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(16));
            var dataLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(24));
            string? mark = (flags & WriteLogEntry.MarkFlag) != 0 ? Encoding.UTF8.GetString(entry, 32, dataLength) : null;
            position += SectorSize;
            var dataOffset = position;
            if ((flags & WriteLogEntry.DiscardFlag) == 0)
            {
                position += sectors * SectorSize;
            }

            yield return new WriteLogEntry(i, sector, sectors, flags, dataOffset, mark);
        }
    }

    /// <summary>Copies a write's data into <paramref name="destination"/> (its length: the entry's sectors × sector size).</summary>
    public void ReadData(WriteLogEntry entry, Span<byte> destination)
    {
        _log.Position = entry.DataOffset;
        _log.ReadExactly(destination);
    }

    public void Dispose() => _log.Dispose();
}
