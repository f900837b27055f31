using S3Block.Cache.Journal;
using static S3Block.Tests.Journal.JournalTestKit;

namespace S3Block.Tests.Journal;

public sealed class FlushJournalReclaimTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Releasing_deletes_whole_segments_reduces_used_bytes_and_keeps_the_rest_readable()
    {
        using var dir = TempDirectory.InMemory();
        var options = Options(alignment: 512, segmentSize: 64 << 10);
        var records = new List<AppendedRecord>();
        await using var journal = Open(dir.Path, options, out _);
        for (var i = 0; i < 40; i++)
        {
            records.Add(await AppendWrite(journal, i * 8192L, 8192, seed: i));
        }

        var segmentIds = records.Select(r => r.Position.SegmentId).Distinct().ToList();
        Assert.True(segmentIds.Count >= 5);
        var usedBefore = journal.UsedBytes;
        Assert.Equal(segmentIds.Sum(id => SegmentEnd(records, id)), usedBefore);

        // Release up to the middle of the third segment: only the first two are wholly released.
        var releaseTo = records.First(r => r.Position.SegmentId == segmentIds[2]).Position.Sequence + 1;
        var firstTwoBytes = SegmentEnd(records, segmentIds[0]) + SegmentEnd(records, segmentIds[1]);
        Assert.Equal(2, journal.ReleaseThrough(releaseTo));

        Assert.False(File.Exists(SegmentPath(dir.Path, segmentIds[0])));
        Assert.False(File.Exists(SegmentPath(dir.Path, segmentIds[1])));
        Assert.True(File.Exists(SegmentPath(dir.Path, segmentIds[2])));
        Assert.Equal(usedBefore - firstTwoBytes, journal.UsedBytes);
        Assert.Equal(releaseTo, journal.GetStatistics().ReleasedSequence);

        Assert.Throws<ArgumentException>(() => journal.ReadPayload(records[0].Position, new byte[8192]));
        foreach (var record in records.Where(r => r.Position.SegmentId >= segmentIds[2]))
        {
            var back = new byte[8192];
            journal.ReadPayload(record.Position, back);
            Assert.Equal(record.Payload, back);
        }

        // Releasing again below the mark is a no-op.
        Assert.Equal(0, journal.ReleaseThrough(releaseTo - 5));
    }

    [Fact]
    public async Task The_active_segment_is_never_deleted()
    {
        using var dir = TempDirectory.InMemory();
        var options = Options(alignment: 512, segmentSize: 64 << 10);
        var records = new List<AppendedRecord>();
        await using (var journal = Open(dir.Path, options, out _))
        {
            for (var i = 0; i < 20; i++)
            {
                records.Add(await AppendWrite(journal, 0, 8192, seed: i));
            }

            var active = records[^1].Position.SegmentId;
            journal.ReleaseThrough(records[^1].Position.Sequence);

            Assert.Equal([SegmentPath(dir.Path, active)], SegmentFiles(dir.Path));
            Assert.Equal(1, journal.GetStatistics().SegmentCount);
            Assert.Equal(SegmentEnd(records, active), journal.UsedBytes);

            // Appending goes on, into the same segment and then new ones.
            for (var i = 20; i < 30; i++)
            {
                records.Add(await AppendWrite(journal, 0, 8192, seed: i));
            }
        }

        // Replay starts at the first segment still on disk.
        await using (var journal = Open(dir.Path, options, out var replayed))
        {
            var firstKept = records.First(r => r.Position.SegmentId == records[19].Position.SegmentId);
            AssertReplayed([.. records.Where(r => r.Position.Sequence >= firstKept.Position.Sequence)], replayed);
            Assert.Equal(JournalDamageKind.None, journal.ReplayReport.DamageKind);
        }
    }

    [Fact]
    public async Task Release_never_covers_an_append_still_being_written()
    {
        using var dir = TempDirectory.InMemory();
        var options = Options(alignment: 512, segmentSize: 16 << 10);
        await using var journal = Open(dir.Path, options, out _);
        var records = new List<AppendedRecord>();
        for (var i = 0; i < 5; i++)
        {
            records.Add(await AppendWrite(journal, 0, 2048, seed: i));
        }

        var stall = new TaskCompletionSource();
        journal.BeforeWriteForTests = s => s == 6 ? stall.Task : Task.CompletedTask;
        var stalled = AppendWrite(journal, 0, 8192, seed: 6);
        var later = new List<Task<AppendedRecord>>();
        for (var i = 7; i < 12; i++)
        {
            later.Add(AppendWrite(journal, 0, 8192, seed: i)); // written, but acknowledged only after 6
            await Eventually(() => journal.GetStatistics().LastReservedSequence == i, $"record {i} is reserved");
        }

        journal.ReleaseThrough(long.MaxValue);
        Assert.Equal(5, journal.GetStatistics().ReleasedSequence);
        stall.SetResult();
        var six = await stalled;
        records.AddRange(await Task.WhenAll(later));
        var back = new byte[8192];
        journal.ReadPayload(six.Position, back);
        Assert.Equal(six.Payload, back);
    }

    /// <summary>Where a segment's records end: the bytes it counts against the capacity (its file is preallocated).</summary>
    private static long SegmentEnd(List<AppendedRecord> records, long segmentId) =>
        records.Where(r => r.Position.SegmentId == segmentId)
            .Max(r => r.Position.RecordOffset + JournalFormat.RecordSize(r.Position.PayloadLength, 512));
}
