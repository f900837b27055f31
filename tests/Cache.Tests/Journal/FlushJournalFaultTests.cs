using System.Buffers;
using S3Block.Cache.Journal;
using S3Block.TestKit;
using static S3Block.Tests.Journal.JournalTestKit;

namespace S3Block.Tests.Journal;

/// <summary>A full disk delays, never fails; a failed fdatasync is never forgotten; a capacity that cannot exist is refused.</summary>
public sealed class FlushJournalFaultTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_failed_fdatasync_is_recorded_and_the_next_open_in_this_boot_refuses_until_accepted()
    {
        using var dir = TempDirectory.InMemory();
        var volumeId = Guid.NewGuid();
        var journal = Open(dir.Path, Options(), out _, volumeId: volumeId);
        await AppendWrite(journal, 0, 4096, seed: 1);
        await journal.FlushAsync(Ct);
        var unsynced = await AppendWrite(journal, 4096, 4096, seed: 2);
        journal.SyncFailureForTests = _ => throw new IOException("fdatasync failed: Input/output error (errno 5)");

        await Assert.ThrowsAsync<JournalFaultedException>(() => journal.FlushAsync(Ct));
        await Assert.ThrowsAsync<JournalFaultedException>(async () => await AppendWrite(journal, 0, 4096, seed: 3));
        await journal.CrashForTestsAsync(); // the service restarts
        Assert.True(File.Exists(Path.Combine(dir.Path, JournalSyncFailure.FileName)));

        // The page cache still holds record 2 and a new fsync would succeed: replaying it as durable would be a lie.
        var refused = Assert.Throws<JournalSyncFailedException>(() => Open(dir.Path, Options(), out _, volumeId: volumeId));
        Assert.Contains("fdatasync", refused.Message);
        Assert.Contains("after sequence 1", refused.Message);
        Assert.Contains("Journal:AcceptSyncFailure", refused.Message);
        Assert.Contains("reboot", refused.Message);

        // The record survives the loss of either copy: the one in the journal folder...
        File.Delete(JournalSyncFailure.MemoryPath(dir.Path));
        Assert.Throws<JournalSyncFailedException>(() => Open(dir.Path, Options(), out _, volumeId: volumeId));

        // An operator who accepts the page cache's content gets it, and the record is gone.
        var accept = Options();
        accept.AcceptSyncFailure = true;
        await using (var accepted = Open(dir.Path, accept, out var replayed, volumeId: volumeId))
        {
            Assert.Equal([1L, unsynced.Position.Sequence], replayed.Select(r => r.Record.Position.Sequence));
        }

        Assert.False(File.Exists(Path.Combine(dir.Path, JournalSyncFailure.FileName)));
        await using var normal = Open(dir.Path, Options(), out _, volumeId: volumeId);
    }

    [Fact]
    public async Task A_sync_failure_kept_only_in_memory_still_refuses_when_the_disk_did_not_take_the_record()
    {
        using var dir = TempDirectory.InMemory();
        var volumeId = Guid.NewGuid();
        var journal = Open(dir.Path, Options(), out _, volumeId: volumeId);
        await AppendWrite(journal, 0, 4096, seed: 1);
        journal.SyncFailureForTests = _ => throw new IOException("fdatasync failed: Input/output error (errno 5)");
        await Assert.ThrowsAsync<JournalFaultedException>(() => journal.FlushAsync(Ct));
        await journal.CrashForTestsAsync();
        File.Delete(Path.Combine(dir.Path, JournalSyncFailure.FileName)); // the failing disk lost it

        Assert.Throws<JournalSyncFailedException>(() => Open(dir.Path, Options(), out _, volumeId: volumeId));
        File.Delete(JournalSyncFailure.MemoryPath(dir.Path));
    }

    [Fact]
    public async Task A_sync_failure_of_an_earlier_boot_is_cleared_because_replay_then_reads_only_what_reached_the_disk()
    {
        using var dir = TempDirectory.InMemory();
        var volumeId = Guid.NewGuid();
        await using (var journal = Open(dir.Path, Options(), out _, volumeId: volumeId))
        {
            await AppendWrite(journal, 0, 4096, seed: 1);
        }

        var record = Path.Combine(dir.Path, JournalSyncFailure.FileName);
        await File.WriteAllTextAsync(record, "boot=00000000-0000-0000-0000-000000000000\ntime=then\ndurable-through=0\nerror=EIO\n", Ct);

        await using var reopened = Open(dir.Path, Options(), out var replayed, volumeId: volumeId);
        Assert.Single(replayed);
        Assert.False(File.Exists(record));
    }

    [Fact]
    public void A_capacity_the_file_system_cannot_hold_is_refused_naming_the_setting()
    {
        using var dir = TempDirectory.InMemory();
        var options = Options();
        options.CapacityBytes = 1L << 60;

        var error = Assert.Throws<JournalCapacityException>(() => Open(dir.Path, options, out _));
        Assert.Contains("Journal:CapacityBytes", error.Message);
        Assert.Contains(dir.Path, error.Message);
    }

    [Fact]
    public async Task Segments_are_preallocated_before_any_sequence_in_them_is_handed_out()
    {
        using var dir = TempDirectory.OnDisk();
        await using var journal = Open(dir.Path, Options(segmentSize: 1 << 20), out _);
        var record = await AppendWrite(journal, 0, 4096, seed: 1);
        Assert.Equal(1 << 20, new FileInfo(SegmentPath(dir.Path, record.Position.SegmentId)).Length);
    }

    [Fact]
    public async Task On_a_full_disk_appends_wait_instead_of_failing_and_resume_when_space_returns()
    {
        using var fs = new SmallFileSystem(8 << 20);
        var options = Options(segmentSize: 1 << 20, capacity: 4 << 20);
        options.DiskFullRetryInterval = TimeSpan.FromMilliseconds(20);
        await using var journal = Open(fs.Path, options, out _);

        // Fill the active segment, then the disk, so the next segment cannot be allocated.
        var written = new List<AppendedRecord>();
        while (written.Count == 0 || written[^1].Position.SegmentId == written[0].Position.SegmentId)
        {
            written.Add(await AppendWrite(journal, 0, 64 * 1024, seed: written.Count));
        }

        var filler = fs.Fill(leaveFree: 256 * 1024);
        var blocked = Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                written.Add(await AppendWrite(journal, 0, 64 * 1024, seed: 1000 + i));
            }
        }, Ct);

        await Eventually(() => journal.GetStatistics().DiskFullSince is not null, "the journal reports the full disk");
        await Task.Delay(200, Ct);
        Assert.False(blocked.IsCompleted); // waiting, not failed
        Assert.True(journal.GetStatistics().DiskFullWaits > 0);

        File.Delete(filler);
        await blocked;
        await journal.FlushAsync(Ct);
        Assert.Null(journal.GetStatistics().DiskFullSince);
        foreach (var record in written)
        {
            var back = new byte[record.Payload.Length];
            journal.ReadPayload(record.Position, back);
            Assert.Equal(record.Payload, back);
        }
    }

    [Fact]
    public async Task An_append_written_after_a_lower_sequence_failed_fails_instead_of_hanging()
    {
        using var dir = TempDirectory.InMemory();
        await using var journal = Open(dir.Path, Options(), out _);
        var gate1 = new TaskCompletionSource();
        var gate2 = new TaskCompletionSource();
        journal.BeforeWriteForTests = s => s == 1 ? gate1.Task : gate2.Task;
        using var failing = new FailingWriteMemory(Payload(4096, 1));
        var first = journal.AppendWriteAsync(0, failing.Memory, Ct).AsTask();        // sequence 1: its write fails (EIO)
        var second = journal.AppendWriteAsync(4096, Payload(4096, 2), Ct).AsTask(); // sequence 2: written after the fault

        gate1.SetResult();
        await Assert.ThrowsAsync<JournalFaultedException>(() => first);
        gate2.SetResult();

        // Sequence 1 will never be written, so 2 is never acknowledged: it must fail, not wait forever (a hung request).
        var finished = await Task.WhenAny(second, Task.Delay(TimeSpan.FromSeconds(30), Ct));
        Assert.Same(second, finished);
        await Assert.ThrowsAsync<JournalFaultedException>(() => second);
    }

    [Fact]
    public async Task Durable_tail_records_that_read_back_as_zeros_are_reported_not_taken_for_unused_space()
    {
        using var dir = TempDirectory.OnDisk();
        var appended = new List<AppendedRecord>();
        await using (var journal = Open(dir.Path, Options(), out _))
        {
            for (var i = 0; i < 6; i++)
            {
                appended.Add(await AppendWrite(journal, i * 4096, 4096, seed: i));
            }

            await journal.FlushAsync(Ct); // durable; closing seals the tail with a durable mark
        }

        // The device loses the last two records and the mark after them (a lost or misdirected write): zeros from 5 on.
        var path = SegmentPath(dir.Path, appended[0].Position.SegmentId);
        var from = appended[4].Position.RecordOffset;
        Zero(path, from, (int)(new FileInfo(path).Length - from));

        await using var reopened = Open(dir.Path, Options(), out var replayed);
        Assert.Equal(4, replayed.Count);
        Assert.Equal(JournalDamageKind.TornTail, reopened.ReplayReport.DamageKind); // reported (a warning), never silent
        Assert.Equal(JournalDamageReason.MissingRecord, reopened.ReplayReport.Damage!.Reason);
    }

    [Fact]
    public async Task A_restart_while_the_disk_is_full_opens_the_journal_so_its_records_can_be_uploaded()
    {
        using var fs = new SmallFileSystem(8 << 20);
        var options = Options(segmentSize: 1 << 20, capacity: 4 << 20);
        var journal = Open(fs.Path, options, out _);
        for (var i = 0; i < 8; i++)
        {
            await AppendWrite(journal, i * 65536L, 64 * 1024, seed: i);
        }

        await journal.FlushAsync(Ct);
        var filler = fs.Fill(leaveFree: 256 * 1024); // the cache or the local store filled the disk
        await journal.CrashForTestsAsync();        // and the daemon restarts meanwhile

        await using (var reopened = Open(fs.Path, options, out var replayed))
        {
            Assert.Equal(8, replayed.Count);
        }

        File.Delete(filler);
    }

    /// <summary>Memory whose pinning fails like a pwritev that returns EIO.</summary>
    private sealed class FailingWriteMemory(byte[] bytes) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => bytes;

        public override MemoryHandle Pin(int elementIndex = 0) => throw new IOException("pwritev: Input/output error (errno 5)", 5);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
