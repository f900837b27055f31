namespace S3Block.Cache.Journal;

public sealed partial class FlushJournal
{
    /// <summary>
    /// Applies the repair a scan calls for and opens the surviving segments.
    /// </summary>
    /// <remarks>
    /// Steps, in this order so that a crash in between leaves a journal the next open repairs the same way:
    /// <list type="number">
    /// <item>Mid-journal corruption under <see cref="JournalCorruptionPolicy.Refuse"/>: throw, touching nothing.</item>
    /// <item>Mid-journal corruption under Truncate: keep a <c>*.discarded</c> copy of the damaged segment and rename the
    /// later ones to <c>*.discarded</c>.</item>
    /// <item>Cut the damaged segment at the damage (fsync'ed), or delete it if its header is the damage.</item>
    /// <item>Delete the later segments, newest first.</item>
    /// <item>Delete segments left without records (nothing to replay; their name would clash with the next segment).</item>
    /// <item>fsync every surviving segment: records recovered from a crash may never have been synced, and new records
    /// will claim (durable-through) that they were.</item>
    /// </list>
    /// The caller fsyncs the directory afterwards, so the repair's deletions and renames are durable too.
    /// </remarks>
    private static (List<JournalSegment> Segments, JournalReplayReport Report) Recover(
        JournalScan scan,
        long firstSequence,
        JournalCorruptionPolicy policy)
    {
        var nextSequence = scan.NextSequence ?? firstSequence;
        var preserved = new List<string>();
        long discarded = 0;

        JournalReplayReport Report() => new()
        {
            SegmentsScanned = scan.Segments.Count,
            RecordsReplayed = scan.RecordsReplayed,
            FirstSequence = scan.FirstSequence,
            LastSequence = scan.RecordsReplayed > 0 ? nextSequence - 1 : null,
            NextSequence = nextSequence,
            HighestWriterEpoch = scan.HighestWriterEpoch,
            DamageKind = scan.DamageKind,
            Damage = scan.Damage,
            ValidRecordsAfterDamage = scan.ValidRecordsAfterDamage,
            BytesDiscarded = discarded,
            PreservedCopies = preserved,
        };

        var keep = scan.Segments.Count;
        if (scan.Damage is { } damage)
        {
            if (scan.DamageKind == JournalDamageKind.MidJournalCorruption && policy == JournalCorruptionPolicy.Refuse)
            {
                throw new JournalCorruptedException(Report());
            }

            if (scan.DamageKind == JournalDamageKind.MidJournalCorruption)
            {
                // The damaged segment is copied (it is about to be cut); later ones are only renamed, which is cheap
                // and also takes them out of the journal.
                for (var i = scan.DamagedIndex; i < scan.Segments.Count; i++)
                {
                    var keptAs = UnusedName(scan.Segments[i].Path + ".discarded");
                    if (i == scan.DamagedIndex)
                    {
                        File.Copy(scan.Segments[i].Path, keptAs);
                    }
                    else
                    {
                        File.Move(scan.Segments[i].Path, keptAs);
                    }

                    preserved.Add(keptAs);
                }
            }

            var damaged = scan.Segments[scan.DamagedIndex];
            keep = scan.DamagedIndex + 1;
            if (damage.FileOffset == 0)
            {
                File.Delete(damaged.Path);
                discarded += damaged.FileLength;
                keep--;
            }
            else
            {
                using var handle = SegmentFileIO.OpenForWrite(damaged.Path);
                RandomAccess.SetLength(handle, damage.FileOffset);
                RandomAccess.FlushToDisk(handle);
                discarded += damaged.FileLength - damage.FileOffset;
            }

            for (var i = scan.Segments.Count - 1; i > scan.DamagedIndex; i--)
            {
                File.Delete(scan.Segments[i].Path); // A no-op for a segment renamed above.
                discarded += scan.Segments[i].FileLength;
            }
        }

        var segments = new List<JournalSegment>();
        try
        {
            for (var i = 0; i < keep; i++)
            {
                var scanned = scan.Segments[i];
                if (scanned.RecordCount == 0)
                {
                    discarded += new FileInfo(scanned.Path).Length;
                    File.Delete(scanned.Path);
                    continue;
                }

                if (scanned.UnusedFrom is { } unusedFrom)
                {
                    // Give back the preallocated space this segment never used (no sequence will ever go there).
                    using var writable = SegmentFileIO.OpenForWrite(scanned.Path);
                    RandomAccess.SetLength(writable, unusedFrom);
                }

                var handle = SegmentFileIO.OpenForRead(scanned.Path);
                segments.Add(new JournalSegment(
                    scanned.Id, scanned.Path, handle, scanned.Header!.Value.Alignment, scanned.ValidEnd, scanned.LastSequence));
                RandomAccess.FlushToDisk(handle);
            }
        }
        catch
        {
            foreach (var segment in segments)
            {
                segment.Handle.Dispose();
            }

            throw;
        }

        return (segments, Report());
    }

    private static string UnusedName(string path)
    {
        var candidate = path;
        for (var n = 1; File.Exists(candidate); n++)
        {
            candidate = $"{path}.{n}";
        }

        return candidate;
    }
}
