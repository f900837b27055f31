using System.Diagnostics;
using S3Block.Cache.Journal;
using S3Block.Cache.Platform;
using S3Block.TestKit;
using static S3Block.Tests.Journal.JournalTestKit;

namespace S3Block.Tests.Journal;

/// <summary>
/// The spare segment: the next segment is made ahead of need as durable zeros, so records land in written blocks and
/// each fdatasync writes data only. A spare is never a segment until it is renamed with its header, and never replayed.
/// </summary>
public sealed class FlushJournalSpareTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Segments_start_from_the_spare_and_their_blocks_are_written_not_unwritten_extents()
    {
        using var dir = TempDirectory.OnDisk();
        var appended = new List<AppendedRecord>();
        await using (var journal = Open(dir.Path, Options(segmentSize: 1 << 20), out _))
        {
            // Waiting for the spare before each append pins the path (it is remade as soon as a segment takes it).
            while (appended.Count < 40)
            {
                await Eventually(() => journal.GetStatistics().SpareReady, "a spare is ready");
                appended.Add(await AppendWrite(journal, appended.Count * 4096L, 64 * 1024, seed: appended.Count));
            }

            await journal.FlushAsync(Ct);
            var statistics = journal.GetStatistics();
            Assert.Equal(0, statistics.SpareFailures);
            Assert.Equal(0, statistics.SegmentsOnDemand);
            Assert.Equal(3, statistics.SegmentsFromSpare); // 40 records of 68 KiB in segments of 1 MiB
            Assert.Equal(3, statistics.SegmentCount);
            foreach (var path in SegmentFiles(dir.Path))
            {
                if (Extents(path) is { } extents)
                {
                    Assert.DoesNotContain("unwritten", extents);
                }
            }
        }

        Assert.Empty(Directory.GetFiles(dir.Path, "*" + FlushJournal.SpareExtension)); // closing deletes an unused spare

        await using var reopened = Open(dir.Path, Options(segmentSize: 1 << 20), out var replayed);
        Assert.Null(reopened.ReplayReport.Damage);
        Assert.Equal(appended.Select(r => r.Payload), replayed.Where(r => r.Record.Type == JournalRecordType.Write).Select(r => r.Payload));
    }

    [Fact]
    public async Task A_spare_left_by_a_crash_is_deleted_at_open_and_never_replayed_even_when_it_holds_well_formed_records()
    {
        using var dir = TempDirectory.OnDisk();
        var volumeId = Guid.NewGuid();
        var journal = Open(dir.Path, Options(), out _, volumeId: volumeId);
        var appended = new List<AppendedRecord>();
        for (var i = 0; i < 4; i++)
        {
            appended.Add(await AppendWrite(journal, i * 4096L, 4096, seed: i));
        }

        await journal.FlushAsync(Ct);
        await Eventually(() => journal.GetStatistics().SpareReady, "the next spare is ready");
        await journal.CrashForTestsAsync();
        var spare = Assert.Single(Directory.GetFiles(dir.Path, "*" + FlushJournal.SpareExtension));

        // The worst a leftover spare could hold: a well-formed segment of the same volume that goes on exactly where
        // this journal stops (written by another journal that starts at the next sequence).
        using var other = TempDirectory.OnDisk();
        var next = appended[^1].Position.Sequence + 1;
        await using (var forger = Open(other.Path, Options(), out _, volumeId: volumeId, firstSequence: next))
        {
            for (var i = 0; i < 3; i++)
            {
                await AppendWrite(forger, 0, 4096, seed: 100 + i);
            }

            await forger.FlushAsync(Ct);
            File.Copy(Assert.Single(SegmentFiles(other.Path)), spare, overwrite: true);
        }

        await using var reopened = Open(dir.Path, Options(), out var replayed, volumeId: volumeId);
        Assert.Equal(appended.Select(r => r.Payload), replayed.Where(r => r.Record.Type == JournalRecordType.Write).Select(r => r.Payload));
        Assert.Equal(next, reopened.ReplayReport.NextSequence);

        // Whatever spare is there now was made by the new instance: zeros, not the forged records.
        await Eventually(() => reopened.GetStatistics().SpareReady, "the new spare is ready");
        Assert.All(File.ReadAllBytes(Assert.Single(Directory.GetFiles(dir.Path, "*" + FlushJournal.SpareExtension))), b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task A_segment_made_from_a_spare_whose_header_and_records_a_power_cut_lost_is_a_torn_tail_after_every_flushed_record()
    {
        // The riskiest moment of a spare: renamed into a segment (the name is durable), but its header page and the
        // records after it never synced. The power cut then leaves a segment-named file of zeros after the flushed ones.
        using var dir = TempDirectory.OnDisk();
        var options = Options(segmentSize: 1 << 20);
        var flushed = new List<AppendedRecord>();
        var journal = Open(dir.Path, options, out _);
        while (true)
        {
            await Eventually(() => journal.GetStatistics().SpareReady, "a spare is ready");
            var record = await AppendWrite(journal, flushed.Count * 4096L, 64 * 1024, seed: flushed.Count);
            if (journal.GetStatistics().SegmentCount == 2)
            {
                break; // this one opened the second segment, made from the spare; never flushed
            }

            await journal.FlushAsync(Ct);
            flushed.Add(record);
        }

        Assert.Equal(2, journal.GetStatistics().SegmentsFromSpare);
        await journal.CrashForTestsAsync();
        var second = SegmentFiles(dir.Path)[^1];
        Zero(second, 0, (int)new FileInfo(second).Length);

        await using var reopened = Open(dir.Path, options, out var replayed);
        Assert.Equal(JournalDamageKind.TornTail, reopened.ReplayReport.DamageKind);
        Assert.Equal(flushed.Select(r => r.Payload), replayed.Where(r => r.Record.Type == JournalRecordType.Write).Select(r => r.Payload));
    }

    [Fact]
    public async Task With_the_spare_turned_off_every_segment_is_created_on_demand_and_no_spare_file_exists()
    {
        using var dir = TempDirectory.OnDisk();
        var options = Options(segmentSize: 256 * 1024);
        options.PrepareSpareSegment = false;
        await using var journal = Open(dir.Path, options, out _);
        for (var i = 0; i < 12; i++)
        {
            await AppendWrite(journal, 0, 64 * 1024, seed: i);
        }

        await journal.FlushAsync(Ct);
        var statistics = journal.GetStatistics();
        Assert.True(statistics.SegmentCount > 2);
        Assert.Equal(0, statistics.SegmentsFromSpare);
        Assert.Equal(statistics.SegmentCount, statistics.SegmentsOnDemand);
        Assert.Empty(Directory.GetFiles(dir.Path, "*" + FlushJournal.SpareExtension));

        // The contrast that shows the extent check can fail: the active segment's unused tail is still unwritten.
        if (Extents(SegmentFiles(dir.Path)[^1]) is { } extents)
        {
            Assert.Contains("unwritten", extents);
        }
    }

    [Fact]
    public async Task Concurrent_appends_across_many_spare_segments_replay_completely_and_in_order()
    {
        using var dir = TempDirectory.OnDisk();
        var options = Options(segmentSize: 128 * 1024, capacity: 64 << 20);
        var appended = new List<AppendedRecord>();
        await using (var journal = Open(dir.Path, options, out _))
        {
            var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
            {
                var mine = new List<AppendedRecord>();
                for (var i = 0; i < 40; i++)
                {
                    mine.Add(await AppendWrite(journal, ((w * 40) + i) * 4096L, 4096 * (1 + ((w + i) % 4)), seed: (w * 1000) + i));
                }

                return mine;
            }, Ct)).ToArray();
            foreach (var mine in await Task.WhenAll(writers))
            {
                appended.AddRange(mine);
            }

            await journal.FlushAsync(Ct);
            var statistics = journal.GetStatistics();
            Assert.Equal(0, statistics.SpareFailures);
            Assert.Equal(statistics.SegmentCount, statistics.SegmentsFromSpare + statistics.SegmentsOnDemand);
        }

        await using var reopened = Open(dir.Path, options, out var replayed);
        Assert.Null(reopened.ReplayReport.Damage);
        var writes = replayed.Where(r => r.Record.Type == JournalRecordType.Write).ToList();
        Assert.Equal(appended.Count, writes.Count);
        Assert.Equal(writes.Select(r => r.Record.Sequence).Order(), writes.Select(r => r.Record.Sequence));
        var bySequence = appended.ToDictionary(r => r.Position.Sequence);
        Assert.All(writes, r => Assert.Equal(bySequence[r.Record.Sequence].Payload, r.Payload));
    }

    [Fact]
    public async Task A_spare_that_fails_to_become_a_segment_is_dropped_and_the_segment_is_created_on_demand()
    {
        using var dir = TempDirectory.OnDisk();
        var appended = new List<AppendedRecord>();
        await using (var journal = Open(dir.Path, Options(), out _))
        {
            await Eventually(() => journal.GetStatistics().SpareReady, "the first spare is ready");
            var failures = 0;
            journal.SpareActivationForTests = () =>
            {
                if (failures++ == 0)
                {
                    throw new IOException("write failed: Input/output error (errno 5)", 5);
                }
            };

            for (var i = 0; i < 3; i++)
            {
                appended.Add(await AppendWrite(journal, i * 4096L, 4096, seed: i));
            }

            await journal.FlushAsync(Ct);
            var statistics = journal.GetStatistics();
            Assert.Equal(1, statistics.SpareFailures);
            Assert.Equal(0, statistics.SegmentsFromSpare);
            Assert.Equal(1, statistics.SegmentsOnDemand);
            Assert.Equal(1, statistics.SegmentCount);
        }

        await using var reopened = Open(dir.Path, Options(), out var replayed);
        Assert.Null(reopened.ReplayReport.Damage);
        Assert.Equal(appended.Select(r => r.Payload), replayed.Where(r => r.Record.Type == JournalRecordType.Write).Select(r => r.Payload));
    }

    [Fact]
    public async Task On_a_full_disk_the_ready_spare_is_the_next_segment_and_no_new_spare_is_made_until_space_returns()
    {
        using var fs = new SmallFileSystem(16 << 20);
        var options = Options(segmentSize: 1 << 20, capacity: 4 << 20);
        options.DiskFullRetryInterval = TimeSpan.FromMilliseconds(20);
        await using var journal = Open(fs.Path, options, out _);
        await Eventually(() => journal.GetStatistics().SpareReady, "the first spare is ready");
        var written = new List<AppendedRecord> { await AppendWrite(journal, 0, 64 * 1024, seed: 0) };
        await Eventually(() => journal.GetStatistics().SpareReady, "the second spare is ready");

        var filler = fs.Fill(leaveFree: 128 * 1024);
        while (written[^1].Position.SegmentId == written[0].Position.SegmentId)
        {
            written.Add(await AppendWrite(journal, 0, 64 * 1024, seed: written.Count));
        }

        var statistics = journal.GetStatistics();
        Assert.Equal(0, statistics.DiskFullWaits); // the second segment needed no new space: the spare held it
        Assert.Equal(2, statistics.SegmentsFromSpare);
        Assert.False(statistics.SpareReady);

        // The third segment needs space the disk no longer has: appends wait, and no spare competes for the space.
        var blocked = Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                written.Add(await AppendWrite(journal, 0, 64 * 1024, seed: 1000 + i));
            }
        }, Ct);
        await Eventually(() => journal.GetStatistics().DiskFullSince is not null, "the journal reports the full disk");
        Assert.False(blocked.IsCompleted);
        Assert.Empty(Directory.GetFiles(fs.Path, "*" + FlushJournal.SpareExtension));

        File.Delete(filler);
        await blocked;
        await journal.FlushAsync(Ct);
        await Eventually(() => journal.GetStatistics().SpareReady, "a spare is made again once space returned");
        foreach (var record in written)
        {
            var back = new byte[record.Payload.Length];
            journal.ReadPayload(record.Position, back);
            Assert.Equal(record.Payload, back);
        }
    }

    [Fact]
    public async Task No_spare_is_made_while_less_than_three_segments_of_space_are_free()
    {
        using var fs = new SmallFileSystem(12 << 20);
        var filler = fs.Fill(leaveFree: 5 << 20);
        var options = Options(segmentSize: 2 << 20, capacity: 4 << 20);
        await using var journal = Open(fs.Path, options, out _);
        await Eventually(() => journal.GetStatistics().SparesSkippedForSpace >= 1, "the spare loop saw the low space");
        await AppendWrite(journal, 0, 4096, seed: 1);
        await Eventually(() => journal.GetStatistics().SparesSkippedForSpace >= 2, "the on-demand segment woke the loop, which looked again");

        var statistics = journal.GetStatistics();
        Assert.False(statistics.SpareReady);
        Assert.Equal(0, statistics.SegmentsFromSpare);
        Assert.Equal(1, statistics.SegmentsOnDemand);
        Assert.Empty(Directory.GetFiles(fs.Path, "*" + FlushJournal.SpareExtension));

        File.Delete(filler);
        await AppendWrite(journal, 0, (int)options.MaxPayloadBytes, seed: 2); // starts a segment on demand, which wakes the loop
        await Eventually(() => journal.GetStatistics().SpareReady, "a spare is made once space is free");
    }

    [Fact]
    public void The_rename_that_turns_a_spare_into_a_segment_never_replaces_a_file()
    {
        using var dir = TempDirectory.OnDisk();
        var from = Path.Combine(dir.Path, "a");
        var to = Path.Combine(dir.Path, "b");
        File.WriteAllText(from, "spare");
        File.WriteAllText(to, "segment");

        var refused = Assert.Throws<IOException>(() => FileDurability.RenameNoReplace(from, to));
        Assert.Equal(17, refused.HResult); // EEXIST
        Assert.Equal("segment", File.ReadAllText(to));
        Assert.Equal("spare", File.ReadAllText(from));

        File.Delete(to);
        FileDurability.RenameNoReplace(from, to);
        Assert.False(File.Exists(from));
        Assert.Equal("spare", File.ReadAllText(to));
    }

    /// <summary>
    /// The file's extents as filefrag (e2fsprogs) lists them; "unwritten" marks blocks whose first write must also commit
    /// metadata. Null, with the reason printed, where the tool is missing or cannot map the file.
    /// </summary>
    private static string? Extents(string path)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("filefrag", ["-v", path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode == 0 && output.Contains("extent", StringComparison.Ordinal))
            {
                return output;
            }

            TestContext.Current.SendDiagnosticMessage($"filefrag could not map {path} (exit {process.ExitCode}): extent check skipped");
            return null;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            TestContext.Current.SendDiagnosticMessage($"filefrag is not installed ({e.Message}): extent check skipped");
            return null;
        }
    }
}
