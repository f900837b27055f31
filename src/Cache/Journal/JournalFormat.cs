namespace S3Block.Cache.Journal;

/// <summary>
/// The on-disk format of the flush journal, version 2 (version 1 is read too). All integers are little-endian.
/// </summary>
/// <remarks>
/// <para><b>Files.</b> A journal is a directory of segment files named <c>{first sequence:D20}.journal</c>
/// (e.g. <c>00000000000000000001.journal</c>), plus <c>journal.lock</c>, which a running journal holds with an
/// exclusive lock. <c>next.spare</c> is a file of zeros made ahead of need: it becomes a segment only by getting its
/// header and being renamed, so it is never read as one, and open deletes a leftover spare. Other names (e.g.
/// <c>*.discarded</c> copies kept after a forced repair) are ignored. Segments are written strictly one after another;
/// a segment is never reused.</para>
///
/// <para><b>Segment header</b>: the first <i>A</i> bytes of a segment, where <i>A</i> is the segment's record
/// alignment (512 or 4096, stored in the header). 64 bytes are used, the rest are zero:</para>
/// <code>
///  offset size field
///   0     4   magic "S3JS" (0x53 0x33 0x4A 0x53)
///   4     2   format version = 2 (1: written before sync marks and preallocation; read the same way)
///   6     2   reserved, 0
///   8    16   volume id (System.Guid.TryWriteBytes layout)
///  24     8   writer epoch (given by the caller at open; never decreases from one segment to the next)
///  32     8   first sequence: the sequence of the segment's first record; equals the file name
///  40     4   record alignment A in bytes (512 or 4096)
///  44    16   reserved, 0
///  60     4   CRC32C of bytes 0..59
/// </code>
///
/// <para><b>Record</b>: starts at an offset that is a multiple of <i>A</i> (the first at offset <i>A</i>), and is
/// a header unit of <i>A</i> bytes followed by the payload, padded with zeros (or a hole) to a multiple of
/// <i>A</i>. The payload therefore starts at record offset + <i>A</i>, aligned. A record never spans segments.
/// The header uses 64 bytes of its unit:</para>
/// <code>
///  offset size field
///   0     4   magic "S3JR" (0x53 0x33 0x4A 0x52)
///   4     2   format version = 2 (or 1)
///   6     1   record type: 1 = Write, 2 = Zero (TRIM / WRITE_ZEROES), 3 = Opaque (volume metadata),
///             4 = SyncMark (version 2; see "Sync marks")
///   7     1   flags, 0
///   8     8   sequence: strictly increasing by 1 across the whole journal
///  16     8   device offset in bytes (Opaque: free for the volume's use)
///  24     8   length in bytes of the device range (Write: equals the payload length)
///  32     4   payload length in bytes (Zero: 0)
///  36     4   reserved, 0
///  40     8   durable-through: every record with a sequence at or below this value had been fsync'ed
///             before this record was appended (see "Telling a torn tail from corruption")
///  48    12   reserved, 0
///  60     4   CRC32C (standard, see <see cref="Integrity.Crc32C"/>) of header bytes 0..59 followed by the payload
/// </code>
///
/// <para><b>Why the alignment.</b> Default 4096: no two records ever share a 4 KiB sector or page, so appending
/// a record never rewrites (in the page cache or in a drive's read-modify-write of a 4 KiB physical sector) bytes
/// of a record that is already durable, and a torn sector can hold at most one record. Payloads are page-aligned,
/// ready for O_DIRECT. The price is one extra 4 KiB unit per record (a 4 KiB write costs 8 KiB of journal).
/// 512 halves that cost for 4 KiB writes (4.5 KiB) and is safe on devices that write 4 KiB sectors
/// atomically or are 512-native, but on 512e drives without power-loss protection a crash during the drive's
/// read-modify-write can damage a neighbouring record that shares the 4 KiB physical sector.</para>
///
/// <para><b>Replay</b> reads segments in name order and records in file order. A record is accepted only if its
/// magic, version, type, field consistency, sequence (previous + 1), payload extent (inside the file) and CRC are
/// all right; replay stops at the first record that is not.</para>
///
/// <para><b>Telling a torn tail from corruption.</b> Appends are acknowledged before they are durable and
/// concurrent appends finish out of order, so after a power cut the un-synced tail may hold any subset of records:
/// valid records after a missing one are normal there. (After a process crash it cannot: appends are acknowledged
/// in sequence order, so every acknowledged record has no hole below it.) The durable-through field separates the
/// cases: if a valid record after the bad one says durable-through ≥ the bad record's sequence, the bad record had
/// been fsync'ed, so the damage is corruption of durable data (mid-journal), not a torn tail.</para>
///
/// <para><b>Sync marks</b> (version 2). The last records before an idle period have no later record to vouch for
/// them, so after every sync round the journal appends a SyncMark record: no payload, durable-through = how far the
/// round reached, sequence = the last sequence reserved before it (it takes no sequence of its own; replay accepts
/// it where the sequence is the previous record's, and never hands it to the volume). The next round's fdatasync
/// makes it durable at no extra cost, and closing the journal syncs the last one (a sealed tail). A mark that is
/// lost in a power cut only loses the proof for that last round.</para>
///
/// <para><b>Preallocation</b> (version 2). A segment's whole size is allocated (fallocate) when it is created, before
/// any sequence in it is handed out, so a full disk can delay the creation of a segment but never fail a record's
/// write. The unused end of a segment reads as zeros: replay ends there without calling it damage.</para>
/// </remarks>
public static class JournalFormat
{
    /// <summary>The format version this code writes.</summary>
    public const ushort Version = 2;

    /// <summary>The oldest format version this code reads (version 1 has no sync marks and no preallocation).</summary>
    public const ushort OldestReadableVersion = 1;

    /// <summary>True for the versions this code reads.</summary>
    internal static bool IsReadableVersion(ushort version) => version is >= OldestReadableVersion and <= Version;

    /// <summary>Bytes used by a segment header or a record header (the rest of their unit is zero).</summary>
    public const int HeaderSize = 64;

    /// <summary>Offset of the CRC32C field in both header kinds.</summary>
    internal const int CrcOffset = 60;

    /// <summary>Record alignments this format allows.</summary>
    public static ReadOnlySpan<int> SupportedAlignments => [512, 4096];

    /// <summary>The smallest alignment; every record of every segment starts at a multiple of it.</summary>
    internal const int MinAlignment = 512;

    /// <summary>The largest alignment.</summary>
    internal const int MaxAlignment = 4096;

    /// <summary>"S3JS" read as a little-endian u32.</summary>
    internal const uint SegmentMagic = 0x534A3353;

    /// <summary>"S3JR" read as a little-endian u32.</summary>
    internal const uint RecordMagic = 0x524A3353;

    /// <summary>Extension of segment files.</summary>
    internal const string SegmentExtension = ".journal";

    /// <summary>Name of the lock file a running journal holds.</summary>
    internal const string LockFileName = "journal.lock";

    /// <summary>True for 512 and 4096.</summary>
    public static bool IsSupportedAlignment(int alignment) => alignment is 512 or 4096;

    /// <summary>Bytes a record with <paramref name="payloadLength"/> bytes of payload occupies in its segment.</summary>
    public static long RecordSize(long payloadLength, int alignment) => alignment + AlignUp(payloadLength, alignment);

    /// <summary>Rounds <paramref name="value"/> up to a multiple of <paramref name="alignment"/> (a power of two).</summary>
    internal static long AlignUp(long value, int alignment) => (value + alignment - 1) & ~((long)alignment - 1);

    /// <summary>The file name of the segment whose first record has <paramref name="firstSequence"/>.</summary>
    internal static string SegmentFileName(long firstSequence) => firstSequence.ToString("D20") + SegmentExtension;

    /// <summary>Parses a segment file name; false for any other file.</summary>
    internal static bool TryParseSegmentFileName(string fileName, out long firstSequence)
    {
        firstSequence = 0;
        if (fileName.Length != 20 + SegmentExtension.Length || !fileName.EndsWith(SegmentExtension, StringComparison.Ordinal))
        {
            return false;
        }

        var digits = fileName.AsSpan(0, 20);
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return long.TryParse(digits, out firstSequence);
    }
}
