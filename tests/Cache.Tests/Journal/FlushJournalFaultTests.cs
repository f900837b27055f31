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
        File.Delete(JournalSyncFailure.MemoryPath(dir.Path, volumeId));
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
        File.Delete(JournalSyncFailure.MemoryPath(dir.Path, volumeId));
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
}
