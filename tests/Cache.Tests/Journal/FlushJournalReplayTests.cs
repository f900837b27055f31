using S3Block.Cache.Journal;
using static S3Block.Tests.Journal.JournalTestKit;
using S3Block.Cache.Integrity;

namespace S3Block.Tests.Journal;

public sealed class FlushJournalReplayTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public async Task A_torn_final_record_cut_at_every_byte_is_dropped_and_appending_continues(int alignment)
    {
        using var dir = TempDirectory.InMemory();
        var options = Options(alignment);
        var records = new List<AppendedRecord>();
        await using (var journal = Open(dir.Path, options, out _))
        {
            for (var i = 0; i < 3; i++)
            {
                records.Add(await AppendWrite(journal, i * 4096L, 1024, seed: i));
            }

            records.Add(await AppendWrite(journal, 1 << 20, 512, seed: 99));
        }

        var segmentPath = SegmentPath(dir.Path, 1);
        var pristine = await File.ReadAllBytesAsync(segmentPath, Ct);
        var last = records[^1].Position;
        var recordStart = last.RecordOffset;
        var recordEnd = last.RecordOffset + alignment + last.PayloadLength;
        Assert.True(pristine.Length >= recordEnd); // preallocated, and the closing sync mark follows the record

        for (var cut = recordStart; cut <= recordEnd; cut++)
        {
            foreach (var file in Directory.GetFiles(dir.Path, "*.journal"))
            {
                File.Delete(file);
            }

            using (var torn = new FileStream(segmentPath, FileMode.CreateNew))
            {
                torn.Write(pristine.AsSpan(0, (int)cut));
            }

            var complete = cut == recordEnd;
            var survivors = complete ? records : records[..3];
            var appendedAfter = new List<AppendedRecord>(survivors);
            await using (var journal = Open(dir.Path, options, out var replayed))
            {
                AssertReplayed(survivors, replayed);
                var report = journal.ReplayReport;
                if (complete || cut == recordStart)
                {
                    // A file that ends exactly at a record boundary is a clean end, not damage.
                    Assert.Equal(JournalDamageKind.None, report.DamageKind);
                }
                else
                {
                    Assert.Equal(JournalDamageKind.TornTail, report.DamageKind);
                    Assert.Equal(recordStart, report.Damage!.FileOffset);
                    Assert.Equal(4, report.Damage.ExpectedSequence);
                    Assert.Equal(1, report.Damage.SegmentId);
                    Assert.Equal(
                        cut - recordStart < JournalFormat.HeaderSize ? JournalDamageReason.TruncatedHeader : JournalDamageReason.TruncatedPayload,
                        report.Damage.Reason);
                    Assert.Equal(cut - recordStart, report.BytesDiscarded);
                    Assert.Equal(recordStart, new FileInfo(segmentPath).Length);
                }

                appendedAfter.Add(await AppendWrite(journal, 0, 512, seed: 1000 + cut));
                Assert.Equal(survivors.Count + 1, appendedAfter[^1].Position.Sequence);
            }

            await using (var journal = Open(dir.Path, options, out var replayed))
            {
                AssertReplayed(appendedAfter, replayed);
                Assert.Equal(JournalDamageKind.None, journal.ReplayReport.DamageKind);
            }
        }
    }

    [Theory]
    [InlineData(16, JournalDamageReason.BadChecksum)] // device offset field
    [InlineData(0, JournalDamageReason.BadMagic)]
    [InlineData(4, JournalDamageReason.UnsupportedVersion)]
    [InlineData(8, JournalDamageReason.BadChecksum)] // sequence field
    [InlineData(60, JournalDamageReason.BadChecksum)] // the CRC itself
    [InlineData(-1, JournalDamageReason.BadChecksum)] // payload byte
    public async Task A_bit_flip_in_a_durable_record_is_reported_as_mid_journal_corruption_and_refused(int headerByte, JournalDamageReason reason)
    {
        using var dir = TempDirectory.InMemory();
        var records = await WriteFlushedJournal(dir.Path, Options());
        var victim = records[3].Position;
        var path = SegmentPath(dir.Path, victim.SegmentId);
        FlipBit(path, headerByte >= 0 ? victim.RecordOffset + headerByte : victim.RecordOffset + 4096 + 100, bit: 1);
        var before = await File.ReadAllBytesAsync(path, Ct);

        var replayed = new List<long>();
        var error = Assert.Throws<JournalCorruptedException>(() => FlushJournal.Open(
            dir.Path, VolumeId, 1, 1, Options(), (in JournalRecord r, ReadOnlySpan<byte> _) => replayed.Add(r.Sequence)));

        // Never yielded as data; reported precisely; nothing modified.
        Assert.Equal([1L, 2, 3], replayed);
        var report = error.Report;
        Assert.Equal(JournalDamageKind.MidJournalCorruption, report.DamageKind);
        Assert.Equal(reason, report.Damage!.Reason);
        Assert.Equal(4, report.Damage.ExpectedSequence);
        Assert.Equal(victim.SegmentId, report.Damage.SegmentId);
        Assert.Equal(victim.RecordOffset, report.Damage.FileOffset);
        Assert.Equal(path, report.Damage.SegmentPath);
        Assert.Equal(records.Count - 4, report.ValidRecordsAfterDamage);
        Assert.Equal(before, await File.ReadAllBytesAsync(path, Ct));
    }

    [Fact]
    public async Task A_well_formed_record_with_the_wrong_sequence_is_a_sequence_mismatch()
    {
        using var dir = TempDirectory.InMemory();
        var records = await WriteFlushedJournal(dir.Path, Options());
        var victim = records[3].Position;
        var path = SegmentPath(dir.Path, victim.SegmentId);

        // Rewrite record 4 as a valid record 5 (right CRC): only the sequence check can catch it.
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            var header = new byte[64];
            file.Position = victim.RecordOffset;
            file.ReadExactly(header);
            new RecordHeader(JournalRecordType.Write, 5, 3 * 4096L, 4096, 4096, 0).Write(header, records[3].Payload);
            file.Position = victim.RecordOffset;
            file.Write(header);
        }

        var error = Assert.Throws<JournalCorruptedException>(() => Open(dir.Path, Options(), out _));
        Assert.Equal(JournalDamageReason.SequenceMismatch, error.Report.Damage!.Reason);
        Assert.Equal(4, error.Report.Damage.ExpectedSequence);
    }

    [Fact]
    public async Task Mid_journal_corruption_under_the_truncate_policy_keeps_copies_and_continues_from_the_last_good_record()
    {
        using var dir = TempDirectory.InMemory();
        var records = await WriteFlushedJournal(dir.Path, Options());
        var victim = records[3].Position;
        var path = SegmentPath(dir.Path, victim.SegmentId);
        FlipBit(path, victim.RecordOffset + 4096 + 7);
        var damagedBytes = await File.ReadAllBytesAsync(path, Ct);
        var forced = Options(policy: JournalCorruptionPolicy.Truncate);

        List<AppendedRecord> expected = [.. records[..3]];
        await using (var journal = Open(dir.Path, forced, out var replayed))
        {
            AssertReplayed(expected, replayed);
            var report = journal.ReplayReport;
            Assert.Equal(JournalDamageKind.MidJournalCorruption, report.DamageKind);
            Assert.Equal(JournalDamageReason.BadChecksum, report.Damage!.Reason);
            Assert.Equal(4, report.NextSequence);
            Assert.True(report.Repaired);
            Assert.Equal(damagedBytes, await File.ReadAllBytesAsync(Assert.Single(report.PreservedCopies), Ct));
            Assert.Equal(1, journal.GetStatistics().ReplayDamageFound);
            expected.Add(await AppendWrite(journal, 0, 4096, seed: 77));
            Assert.Equal(4, expected[^1].Position.Sequence);
        }

        await using (var journal = Open(dir.Path, Options(), out var replayed))
        {
            AssertReplayed(expected, replayed);
            Assert.Equal(JournalDamageKind.None, journal.ReplayReport.DamageKind);
        }
    }

    [Fact]
    public async Task Forced_truncation_renames_later_segments_aside_instead_of_deleting_them()
    {
        using var dir = TempDirectory.InMemory();
        var options = Options(alignment: 512, segmentSize: 16 << 10, policy: JournalCorruptionPolicy.Truncate);
        var records = await WriteFlushedJournal(dir.Path, options, payloadLength: 2048, count: 40);
        var segments = SegmentFiles(dir.Path);
        var victim = records[7].Position;
        var laterBytes = segments.Where(s => string.CompareOrdinal(s, SegmentPath(dir.Path, victim.SegmentId)) > 0)
            .ToDictionary(s => s + ".discarded", File.ReadAllBytes);
        FlipBit(SegmentPath(dir.Path, victim.SegmentId), victim.RecordOffset + 512 + 3);

        await using var journal = Open(dir.Path, options, out var replayed);
        AssertReplayed(records[..7], replayed);
        var report = journal.ReplayReport;
        Assert.Equal(JournalDamageKind.MidJournalCorruption, report.DamageKind);
        Assert.Equal(laterBytes.Count + 1, report.PreservedCopies.Count);
        foreach (var (path, bytes) in laterBytes)
        {
            Assert.Equal(bytes, await File.ReadAllBytesAsync(path, Ct));
        }

        Assert.Equal(2, SegmentFiles(dir.Path).Length);
        Assert.Equal(SegmentFiles(dir.Path).Sum(f => new FileInfo(f).Length), journal.UsedBytes);
    }

    [Fact]
    public async Task A_bit_flip_in_the_last_flushed_record_is_corruption_because_the_sync_mark_vouches_for_it()
    {
        // No later record says the last records were synced; the sync mark written after the round (made durable by
        // the closing seal) does, so their damage is told from a torn tail.
        using var dir = TempDirectory.InMemory();
        var records = await WriteFlushedJournal(dir.Path, Options());
        var victim = records[^1].Position;
        FlipBit(SegmentPath(dir.Path, victim.SegmentId), victim.RecordOffset + 4096 + 5);

        var error = Assert.Throws<JournalCorruptedException>(() => Open(dir.Path, Options(), out _));
        Assert.Equal(JournalDamageKind.MidJournalCorruption, error.Report.DamageKind);
        Assert.Equal(JournalDamageReason.BadChecksum, error.Report.Damage!.Reason);
        Assert.Equal(victim.Sequence, error.Report.Damage.ExpectedSequence);
        Assert.Equal(0, error.Report.ValidRecordsAfterDamage); // only the mark follows, and it is not data
    }

    [Fact]
    public async Task A_bit_flip_in_the_last_record_never_synced_is_a_torn_tail()
    {
        using var dir = TempDirectory.InMemory();
        var records = await WriteFlushedJournal(dir.Path, Options(), crashAtEnd: true);
        var victim = records[^1].Position;
        FlipBit(SegmentPath(dir.Path, victim.SegmentId), victim.RecordOffset + 4096 + 5);

        await using var journal = Open(dir.Path, Options(), out var replayed);
        AssertReplayed(records[..^1], replayed);
        Assert.Equal(JournalDamageKind.TornTail, journal.ReplayReport.DamageKind);
        Assert.Equal(JournalDamageReason.BadChecksum, journal.ReplayReport.Damage!.Reason);
        Assert.Equal(victim.RecordOffset, journal.ReplayReport.Damage.FileOffset);
        Assert.Equal(0, journal.ReplayReport.ValidRecordsAfterDamage);
    }

    [Fact]
    public async Task A_hole_among_unsynced_records_is_a_torn_tail_even_with_valid_records_after_it()
    {
        // Concurrent appends finish out of order and the page cache writes back in any order, so after a crash the
        // un-synced tail can lack a record while later ones made it to disk. Nothing after the hole was ever flushed.
        using var dir = TempDirectory.InMemory();
        var records = new List<AppendedRecord>();
        var journal = Open(dir.Path, Options(), out _);
        for (var i = 0; i < 10; i++)
        {
            records.Add(await AppendWrite(journal, 0, 4096, seed: i));
        }

        await journal.FlushAsync(Ct);
        for (var i = 10; i < 15; i++)
        {
            records.Add(await AppendWrite(journal, 0, 4096, seed: i));
        }

        await journal.CrashForTestsAsync(); // no closing sync: records 11..15 were never flushed

        var hole = records[11].Position;
        Zero(SegmentPath(dir.Path, hole.SegmentId), hole.RecordOffset, 4096 + 4096);

        await using var reopened = Open(dir.Path, Options(), out var replayed);
        AssertReplayed(records[..11], replayed);
        var report = reopened.ReplayReport;
        Assert.Equal(JournalDamageKind.TornTail, report.DamageKind);
        Assert.Equal(JournalDamageReason.MissingRecord, report.Damage!.Reason);
        Assert.Equal(12, report.Damage.ExpectedSequence);
        Assert.Equal(3, report.ValidRecordsAfterDamage);
        Assert.Equal(12, report.NextSequence);
    }

    [Fact]
    public async Task A_damaged_middle_segment_header_is_mid_journal_corruption()
    {
        using var dir = TempDirectory.InMemory();
        var options = Options(alignment: 512, segmentSize: 16 << 10);
        var records = await WriteFlushedJournal(dir.Path, options, payloadLength: 2048, count: 40);
        var segments = SegmentFiles(dir.Path);
        Assert.True(segments.Length >= 4);
        FlipBit(segments[1], 30);

        var error = Assert.Throws<JournalCorruptedException>(() => Open(dir.Path, options, out _));
        Assert.Equal(JournalDamageReason.BadSegmentHeader, error.Report.Damage!.Reason);
        Assert.Equal(segments[1], error.Report.Damage.SegmentPath);
        Assert.Equal(0, error.Report.Damage.FileOffset);
        Assert.Equal(records.First(r => r.Position.SegmentId != records[0].Position.SegmentId).Position.Sequence, error.Report.Damage.ExpectedSequence);
        Assert.Equal(JournalDamageKind.MidJournalCorruption, error.Report.DamageKind);
    }

    [Fact]
    public async Task A_missing_middle_segment_is_a_sequence_gap()
    {
        using var dir = TempDirectory.InMemory();
        var options = Options(alignment: 512, segmentSize: 16 << 10);
        await WriteFlushedJournal(dir.Path, options, payloadLength: 2048, count: 40);
        var segments = SegmentFiles(dir.Path);
        File.Delete(segments[2]);

        var error = Assert.Throws<JournalCorruptedException>(() => Open(dir.Path, options, out var replayed));
        Assert.Equal(JournalDamageReason.SequenceGap, error.Report.Damage!.Reason);
        Assert.Equal(segments[3], error.Report.Damage.SegmentPath);
        Assert.Equal(JournalDamageKind.MidJournalCorruption, error.Report.DamageKind);
    }

    [Fact]
    public async Task Another_volumes_journal_is_a_typed_error_and_is_left_alone()
    {
        using var dir = TempDirectory.InMemory();
        await WriteFlushedJournal(dir.Path, Options());
        var before = await File.ReadAllBytesAsync(SegmentPath(dir.Path, 1), Ct);
        var other = Guid.NewGuid();

        var error = Assert.Throws<JournalVolumeMismatchException>(() => Open(dir.Path, Options(), out _, volumeId: other));
        Assert.Equal(VolumeId, error.Found);
        Assert.Equal(other, error.Expected);
        Assert.Equal(SegmentPath(dir.Path, 1), error.SegmentPath);
        Assert.Equal(before, await File.ReadAllBytesAsync(SegmentPath(dir.Path, 1), Ct));
    }

    [Fact]
    public async Task An_older_writer_epoch_is_refused_and_a_newer_one_is_stamped_on_new_segments()
    {
        using var dir = TempDirectory.InMemory();
        await using (var journal = Open(dir.Path, Options(), out _, epoch: 5))
        {
            await AppendWrite(journal, 0, 512, seed: 1);
        }

        var error = Assert.Throws<JournalStaleWriterException>(() => Open(dir.Path, Options(), out _, epoch: 4));
        Assert.Equal(5, error.JournalEpoch);

        await using (var journal = Open(dir.Path, Options(), out _, epoch: 6))
        {
            Assert.Equal(5, journal.ReplayReport.HighestWriterEpoch);
            await AppendWrite(journal, 0, 512, seed: 2);
        }

        await using (var journal = Open(dir.Path, Options(), out var replayed, epoch: 6))
        {
            Assert.Equal(6, journal.ReplayReport.HighestWriterEpoch);
            Assert.Equal(2, replayed.Count);
        }
    }

    [Fact]
    public async Task A_segment_of_a_newer_format_version_is_refused_untouched()
    {
        using var dir = TempDirectory.InMemory();
        await WriteFlushedJournal(dir.Path, Options());
        var path = SegmentPath(dir.Path, 1);
        var header = new byte[64];
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.ReadExactly(header);
            header[4] = (byte)(JournalFormat.Version + 1);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(60), Crc32C.Compute(header.AsSpan(0, 60)));
            file.Position = 0;
            file.Write(header);
        }

        var before = await File.ReadAllBytesAsync(path, Ct);
        Assert.Throws<JournalFormatException>(() => Open(dir.Path, Options(), out _));
        Assert.Equal(before, await File.ReadAllBytesAsync(path, Ct));
    }

    [Fact]
    public async Task A_second_instance_on_the_same_directory_is_refused()
    {
        using var dir = TempDirectory.InMemory();
        await using (Open(dir.Path, Options(), out _))
        {
            Assert.Throws<JournalInUseException>(() => Open(dir.Path, Options(), out _));
        }

        await using (Open(dir.Path, Options(), out _))
        {
        }
    }

    [Fact]
    public async Task Segments_of_a_different_alignment_stay_readable_after_the_setting_changes()
    {
        using var dir = TempDirectory.InMemory();
        var expected = new List<AppendedRecord>();
        await using (var journal = Open(dir.Path, Options(alignment: 512), out _))
        {
            expected.Add(await AppendWrite(journal, 0, 1024, seed: 1));
            expected.Add(await AppendWrite(journal, 0, 512, seed: 2));
        }

        await using (var journal = Open(dir.Path, Options(alignment: 4096), out _))
        {
            expected.Add(await AppendWrite(journal, 0, 4096, seed: 3));
        }

        await using (var journal = Open(dir.Path, Options(alignment: 512), out var replayed))
        {
            AssertReplayed(expected, replayed);
            foreach (var record in expected)
            {
                var back = new byte[record.Payload.Length];
                journal.ReadPayload(record.Position, back);
                Assert.Equal(record.Payload, back);
            }
        }
    }

    [Fact]
    public async Task A_segment_whose_header_never_made_it_is_dropped_as_a_torn_tail()
    {
        using var dir = TempDirectory.InMemory();
        var options = Options(alignment: 512, segmentSize: 16 << 10);
        var records = await WriteFlushedJournal(dir.Path, options, payloadLength: 2048, count: 20, crashAtEnd: true);
        var lastSegmentId = records[^1].Position.SegmentId;
        var tail = records.Where(r => r.Position.SegmentId != lastSegmentId).ToList();
        Zero(SegmentPath(dir.Path, lastSegmentId), 0, 64);

        // The zeroed header is the first damage. No record after it claims (durable-through) that the segment's
        // records had been synced before it was appended, so this is what a crash while starting a segment leaves.
        await using var journal = Open(dir.Path, options, out var replayed);
        AssertReplayed(tail, replayed);
        Assert.Equal(JournalDamageReason.BadSegmentHeader, journal.ReplayReport.Damage!.Reason);
        Assert.False(File.Exists(SegmentPath(dir.Path, lastSegmentId)));
        Assert.Equal(lastSegmentId, journal.ReplayReport.NextSequence);
    }

    /// <summary>
    /// Appends <paramref name="count"/> writes, flushing after the first half so the later half proves the first durable,
    /// and flushes and closes at the end; with <paramref name="crashAtEnd"/> it stops as a crash would, without the final
    /// flush, so the later half was never synced.
    /// </summary>
    private static async Task<List<AppendedRecord>> WriteFlushedJournal(
        string directory, JournalOptions options, int payloadLength = 4096, int count = 15, bool crashAtEnd = false)
    {
        var records = new List<AppendedRecord>();
        var journal = Open(directory, options, out _);
        for (var i = 0; i < count; i++)
        {
            if (i == count / 2 + 1)
            {
                await journal.FlushAsync(Ct);
            }

            records.Add(await AppendWrite(journal, i * 4096L, payloadLength, seed: i));
        }

        if (crashAtEnd)
        {
            await journal.CrashForTestsAsync();
            return records;
        }

        await journal.FlushAsync(Ct);
        await journal.DisposeAsync();
        return records;
    }
}
