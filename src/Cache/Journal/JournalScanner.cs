using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace S3Block.Cache.Journal;

/// <summary>
/// Reads a journal directory: checks every segment header, hands every valid record to the replay handler in
/// sequence order, stops at the first damage and classifies it. Modifies nothing.
/// </summary>
/// <remarks>
/// Protocol:
/// <list type="number">
/// <item>Header pass: read every segment header. A well-formed header of an unknown version throws
/// <see cref="JournalFormatException"/>, another volume's id throws <see cref="JournalVolumeMismatchException"/>, an
/// epoch newer than the caller's throws <see cref="JournalStaleWriterException"/>; all before any record is replayed.</item>
/// <item>Record pass: segments in order, records in file order, each checked as <see cref="JournalFormat"/> says.</item>
/// <item>After damage, look further (the rest of the damaged segment at every alignment unit, then every later
/// segment) for well-formed records; if any says durable-through ≥ the damaged sequence, the damage is
/// mid-journal corruption, else a torn tail.</item>
/// </list>
/// </remarks>
internal static class JournalScanner
{
    public static JournalScan Scan(string directory, Guid volumeId, long writerEpoch, JournalReplayHandler? handler)
    {
        var segments = ListSegments(directory);
        var highestEpoch = CheckHeaders(segments, volumeId, writerEpoch);

        long? expected = null;
        long? firstSequence = null;
        long records = 0;
        long vouched = 0; // the highest durable-through any valid record or sync mark claims
        long previousEpoch = -1;
        JournalDamage? damage = null;
        var damagedIndex = -1;
        var payloadBuffer = Array.Empty<byte>();
        try
        {
            for (var i = 0; i < segments.Count && damage is null; i++)
            {
                var segment = segments[i];
                var header = segment.Header;
                JournalDamageReason? headerProblem =
                    header is null ? JournalDamageReason.BadSegmentHeader
                    : header.Value.FirstSequence != segment.Id ? JournalDamageReason.SegmentNameMismatch
                    : header.Value.WriterEpoch < previousEpoch ? JournalDamageReason.EpochRegression
                    : expected is { } e && header.Value.FirstSequence != e ? JournalDamageReason.SequenceGap
                    : null;
                if (headerProblem is { } reason)
                {
                    // With no earlier good segment, the file name is the best evidence of where sequences resume.
                    expected ??= segment.Id;
                    segment.LastSequence = segment.Id - 1;
                    damage = new JournalDamage(segment.Id, segment.Path, 0, expected.Value, reason);
                    damagedIndex = i;
                    break;
                }

                previousEpoch = header!.Value.WriterEpoch;
                expected ??= header.Value.FirstSequence;
                firstSequence ??= expected;
                using var handle = SegmentFileIO.OpenForRead(segment.Path);
                damage = ScanRecords(handle, segment, header.Value.Alignment, ref expected, ref payloadBuffer, handler, ref records, ref vouched);
                var isLast = i == segments.Count - 1;
                if (damage is { Reason: JournalDamageReason.MissingRecord }
                    && (!isLast || vouched >= damage.ExpectedSequence - 1)
                    && !AnyRecordAfter(handle, segment.FileLength, damage.FileOffset, header.Value.Alignment, ref payloadBuffer))
                {
                    // Zeros where the next record would go and no record after them in this segment: the (preallocated)
                    // space the segment never used. A middle segment's next segment must go on from here (else that is
                    // the damage); the last one's end is clean only when a sync mark vouches for everything before it,
                    // as the closing seal does (else records may have been lost there: a torn tail, reported).
                    segment.UnusedFrom = damage.FileOffset;
                    damage = null;
                }

                if (damage is not null)
                {
                    damagedIndex = i;
                }
            }

            long validAfter = 0;
            var kind = JournalDamageKind.None;
            if (damage is not null)
            {
                var proven = LookPastDamage(segments, damagedIndex, damage, ref payloadBuffer, out validAfter);
                kind = proven ? JournalDamageKind.MidJournalCorruption : JournalDamageKind.TornTail;
            }

            return new JournalScan
            {
                Segments = segments,
                DamagedIndex = damagedIndex,
                Damage = damage,
                DamageKind = kind,
                ValidRecordsAfterDamage = validAfter,
                RecordsReplayed = records,
                FirstSequence = records > 0 ? firstSequence : null,
                NextSequence = expected,
                HighestWriterEpoch = highestEpoch,
            };
        }
        finally
        {
            if (payloadBuffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(payloadBuffer);
            }
        }
    }

    private static List<ScannedSegment> ListSegments(string directory)
    {
        var segments = new List<ScannedSegment>();
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            if (JournalFormat.TryParseSegmentFileName(Path.GetFileName(path), out var id))
            {
                segments.Add(new ScannedSegment(id, path, new FileInfo(path).Length));
            }
        }

        segments.Sort((a, b) => a.Id.CompareTo(b.Id));
        return segments;
    }

    /// <summary>Step 1: decode all headers; throws the typed errors before anything is replayed.</summary>
    private static long? CheckHeaders(List<ScannedSegment> segments, Guid volumeId, long writerEpoch)
    {
        long? highest = null;
        Span<byte> bytes = stackalloc byte[JournalFormat.HeaderSize];
        foreach (var segment in segments)
        {
            using var handle = SegmentFileIO.OpenForRead(segment.Path);
            var read = SegmentFileIO.ReadAt(handle, bytes, 0);
            switch (SegmentHeader.TryRead(bytes[..read], out var header))
            {
                case SegmentHeader.ReadResult.UnsupportedVersion:
                    throw new JournalFormatException(segment.Path);
                case SegmentHeader.ReadResult.Valid when header.VolumeId != volumeId:
                    throw new JournalVolumeMismatchException(segment.Path, volumeId, header.VolumeId);
                case SegmentHeader.ReadResult.Valid:
                    segment.Header = header;
                    highest = Math.Max(highest ?? 0, header.WriterEpoch);
                    break;
                default:
                    break;
            }
        }

        if (highest > writerEpoch)
        {
            throw new JournalStaleWriterException(writerEpoch, highest.Value);
        }

        return highest;
    }

    /// <summary>Step 2 for one segment: replays its valid records; returns the damage that stopped it, or null at a clean end.</summary>
    private static JournalDamage? ScanRecords(
        SafeFileHandle handle,
        ScannedSegment segment,
        int alignment,
        ref long? expected,
        ref byte[] payloadBuffer,
        JournalReplayHandler? handler,
        ref long records,
        ref long vouched)
    {
        Span<byte> headerBytes = stackalloc byte[JournalFormat.HeaderSize];
        var length = segment.FileLength;
        long offset = alignment;
        segment.LastSequence = segment.Id - 1;
        segment.ValidEnd = offset;
        while (offset < length)
        {
            var sequence = expected!.Value;
            var outcome = TryReadRecord(handle, length, offset, alignment, headerBytes, ref payloadBuffer, out var header);
            var isMark = outcome is null && header.Type == JournalRecordType.SyncMark;
            if (outcome is null && header.Sequence != (isMark ? sequence - 1 : sequence))
            {
                outcome = JournalDamageReason.SequenceMismatch;
            }

            if (outcome is { } reason)
            {
                return new JournalDamage(segment.Id, segment.Path, offset, sequence, reason);
            }

            vouched = Math.Max(vouched, header.DurableThrough);
            if (isMark)
            {
                // The journal's own record of how far a sync reached: nothing for the volume.
                offset += JournalFormat.RecordSize(0, alignment);
                segment.ValidEnd = offset;
                continue;
            }

            var position = new JournalPosition(sequence, segment.Id, offset, header.PayloadLength);
            var record = new JournalRecord(header.Type, header.DeviceOffset, header.Length, position);
            handler?.Invoke(record, payloadBuffer.AsSpan(0, header.PayloadLength));
            records++;
            segment.RecordCount++;
            segment.LastSequence = sequence;
            expected = sequence + 1;
            offset += JournalFormat.RecordSize(header.PayloadLength, alignment);
            segment.ValidEnd = offset;
        }

        return null;
    }

    /// <summary>
    /// Reads and fully checks the record at <paramref name="offset"/> (all but its sequence order). On success the
    /// payload is in the first <c>header.PayloadLength</c> bytes of <paramref name="payloadBuffer"/>.
    /// </summary>
    private static JournalDamageReason? TryReadRecord(
        SafeFileHandle handle,
        long fileLength,
        long offset,
        int alignment,
        Span<byte> headerBytes,
        ref byte[] payloadBuffer,
        out RecordHeader header)
    {
        header = default;
        if (fileLength - offset < JournalFormat.HeaderSize)
        {
            var partial = headerBytes[..(int)(fileLength - offset)];
            SegmentFileIO.ReadExactlyAt(handle, partial, offset);
            return partial.IndexOfAnyExcept((byte)0) < 0 ? JournalDamageReason.MissingRecord : JournalDamageReason.TruncatedHeader;
        }

        SegmentFileIO.ReadExactlyAt(handle, headerBytes, offset);
        if (!RecordHeader.TryRead(headerBytes, out header, out var reason))
        {
            return reason;
        }

        var payloadStart = offset + alignment;
        if (header.PayloadLength > fileLength - payloadStart)
        {
            return JournalDamageReason.TruncatedPayload;
        }

        if (payloadBuffer.Length < header.PayloadLength)
        {
            if (payloadBuffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(payloadBuffer);
            }

            payloadBuffer = ArrayPool<byte>.Shared.Rent(header.PayloadLength);
        }

        var payload = payloadBuffer.AsSpan(0, header.PayloadLength);
        SegmentFileIO.ReadExactlyAt(handle, payload, payloadStart);
        return RecordHeader.ComputeCrc(headerBytes, payload) == RecordHeader.StoredCrc(headerBytes)
            ? null
            : JournalDamageReason.BadChecksum;
    }

    /// <summary>
    /// Step 3: counts well-formed records after the damage and returns true if one of them proves the damaged record
    /// had been durable. Records found here are never replayed.
    /// </summary>
    /// <summary>True if any well-formed record (CRC included) starts after <paramref name="offset"/> in the file.</summary>
    private static bool AnyRecordAfter(SafeFileHandle handle, long length, long offset, int alignment, ref byte[] payloadBuffer)
    {
        Span<byte> headerBytes = stackalloc byte[JournalFormat.HeaderSize];
        for (var at = offset + alignment; length - at >= JournalFormat.HeaderSize; at += alignment)
        {
            if (TryReadRecord(handle, length, at, alignment, headerBytes, ref payloadBuffer, out _) is null)
            {
                return true;
            }
        }

        return false;
    }

    private static bool LookPastDamage(
        List<ScannedSegment> segments,
        int damagedIndex,
        JournalDamage damage,
        ref byte[] payloadBuffer,
        out long validAfter)
    {
        validAfter = 0;
        var proven = false;
        Span<byte> headerBytes = stackalloc byte[JournalFormat.HeaderSize];
        for (var i = damagedIndex; i < segments.Count; i++)
        {
            var segment = segments[i];

            // A segment with an unreadable header is searched at the smallest alignment, which every record of every
            // segment respects, trying each alignment the record could have been written with.
            var step = segment.Header?.Alignment ?? JournalFormat.MinAlignment;
            ReadOnlySpan<int> candidates = segment.Header is { } h ? [h.Alignment] : JournalFormat.SupportedAlignments;
            var offset = (i == damagedIndex ? damage.FileOffset : 0) + step;
            using var handle = SegmentFileIO.OpenForRead(segment.Path);
            var length = segment.FileLength;
            while (length - offset >= JournalFormat.HeaderSize)
            {
                var next = offset + step;
                foreach (var alignment in candidates)
                {
                    if (offset % alignment != 0)
                    {
                        continue;
                    }

                    var outcome = TryReadRecord(handle, length, offset, alignment, headerBytes, ref payloadBuffer, out var header);
                    if (outcome is null && header.Sequence >= damage.ExpectedSequence)
                    {
                        validAfter += header.Type == JournalRecordType.SyncMark ? 0 : 1; // marks prove, but are not data
                        proven |= header.DurableThrough >= damage.ExpectedSequence;
                        next = offset + JournalFormat.RecordSize(header.PayloadLength, alignment);
                        break;
                    }
                }

                offset = next;
            }
        }

        return proven;
    }
}
