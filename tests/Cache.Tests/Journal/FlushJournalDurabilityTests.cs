using static S3Block.Tests.Journal.JournalTestKit;

namespace S3Block.Tests.Journal;

public sealed class FlushJournalDurabilityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Flush_with_nothing_appended_does_not_sync()
    {
        using var dir = TempDirectory.OnDisk();
        await using var journal = Open(dir.Path, Options(), out _);
        await journal.FlushAsync(Ct);
        Assert.Equal(0, journal.GetStatistics().Syncs);
    }

    [Fact]
    public async Task Many_concurrent_flushes_of_the_same_appends_share_one_sync()
    {
        using var dir = TempDirectory.OnDisk();
        await using var journal = Open(dir.Path, Options(), out _);
        for (var i = 0; i < 100; i++)
        {
            await AppendWrite(journal, i * 4096L, 4096, seed: i);
        }

        Assert.Equal(0, journal.DurableSequence);
        var flushes = Enumerable.Range(0, 100).Select(_ => journal.FlushAsync(Ct)).ToArray();
        await Task.WhenAll(flushes);

        Assert.Equal(100, journal.DurableSequence);
        Assert.Equal(1, journal.GetStatistics().Syncs);
    }

    [Fact]
    public async Task Concurrent_append_then_flush_callers_are_group_committed()
    {
        using var dir = TempDirectory.OnDisk();
        await using var journal = Open(dir.Path, Options(segmentSize: 4 << 20), out _);
        const int tasks = 32;
        const int rounds = 25;

        await Task.WhenAll(Enumerable.Range(0, tasks).Select(t => Task.Run(
            async () =>
            {
                for (var i = 0; i < rounds; i++)
                {
                    var record = await AppendWrite(journal, t * 1_000_000L, 4096, seed: (t * 1000) + i);
                    await journal.FlushAsync(Ct);
                    Assert.True(journal.DurableSequence >= record.Position.Sequence);
                }
            },
            Ct)));

        var stats = journal.GetStatistics();
        const int flushes = tasks * rounds;
        TestContext.Current.TestOutputHelper?.WriteLine($"{stats.Syncs} syncs for {flushes} flushes");
        Assert.Equal(flushes, journal.DurableSequence);
        Assert.True(stats.Syncs <= flushes / 4, $"{stats.Syncs} syncs for {flushes} flushes: no group commit");
        Assert.Equal(stats.Syncs, stats.SyncLatencyBuckets.Sum());
    }

    [Fact]
    public async Task A_fua_wait_covers_its_record_without_waiting_for_later_appends_but_flush_waits_for_them()
    {
        using var dir = TempDirectory.OnDisk();
        await using var journal = Open(dir.Path, Options(), out _);
        for (var i = 0; i < 10; i++)
        {
            await AppendWrite(journal, 0, 4096, seed: i);
        }

        // Record 11 reserves its place and then stalls before writing, like a slow concurrent append.
        var release11 = new TaskCompletionSource();
        journal.BeforeWriteForTests = sequence => sequence == 11 ? release11.Task : Task.CompletedTask;
        var stalled = AppendWrite(journal, 0, 4096, seed: 11);
        await Eventually(() => journal.GetStatistics().LastReservedSequence == 11, "record 11 is reserved");
        Assert.False(stalled.IsCompleted);

        // FLUSH issued now must cover record 11, which is in flight.
        var flush = journal.FlushAsync(Ct);

        // FUA of record 10 completes while 11 is still stalled.
        await journal.WaitDurableAsync(10, Ct);
        Assert.Equal(10, journal.DurableSequence);
        Assert.False(flush.IsCompleted);

        // Record 12 is written after the stalled one but not acknowledged before it: appends return in sequence order,
        // so a crash can never leave a hole below an acknowledged record. Nor can it become durable past the hole.
        var append12 = AppendWrite(journal, 0, 4096, seed: 12);
        await Eventually(() => journal.GetStatistics().LastReservedSequence == 12, "record 12 is reserved");
        var fua12 = journal.WaitDurableAsync(12, Ct);
        await Task.Delay(100, Ct);
        Assert.False(append12.IsCompleted);
        Assert.Equal(10, journal.AppendedSequence);
        Assert.False(fua12.IsCompleted);

        release11.SetResult();
        await stalled;
        await append12;
        await flush;
        await fua12;
        Assert.Equal(12, journal.DurableSequence);
    }

    [Fact]
    public async Task Waiting_for_an_already_durable_record_does_not_sync_again()
    {
        using var dir = TempDirectory.OnDisk();
        await using var journal = Open(dir.Path, Options(), out _);
        for (var i = 0; i < 5; i++)
        {
            await AppendWrite(journal, 0, 512, seed: i);
        }

        await journal.FlushAsync(Ct);
        var syncs = journal.GetStatistics().Syncs;

        Assert.True(journal.WaitDurableAsync(3, Ct).IsCompletedSuccessfully);
        Assert.True(journal.FlushAsync(Ct).IsCompletedSuccessfully);
        Assert.Equal(syncs, journal.GetStatistics().Syncs);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => journal.WaitDurableAsync(6, Ct));
    }

    [Fact]
    public async Task Dispose_makes_everything_appended_durable()
    {
        using var dir = TempDirectory.OnDisk();
        var journal = Open(dir.Path, Options(), out _);
        for (var i = 0; i < 7; i++)
        {
            await AppendWrite(journal, 0, 4096, seed: i);
        }

        Assert.Equal(0, journal.DurableSequence);
        await journal.DisposeAsync();
        Assert.Equal(7, journal.DurableSequence);
        Assert.Equal(1, journal.GetStatistics().Syncs);
    }

    [Fact]
    public async Task Statistics_count_what_was_appended_and_synced()
    {
        using var dir = TempDirectory.OnDisk();
        await using var journal = Open(dir.Path, Options(alignment: 4096), out _);
        await AppendWrite(journal, 0, 4096, seed: 1);
        await journal.AppendZeroAsync(0, 1 << 20, Ct);
        await journal.FlushAsync(Ct);

        var stats = journal.GetStatistics();
        Assert.Equal(2, stats.RecordsAppended);
        Assert.Equal(4096, stats.PayloadBytesAppended);
        Assert.Equal(8192 + 4096, stats.JournalBytesAppended);
        Assert.Equal(4096 + 8192 + 4096 + 4096, stats.UsedBytes); // segment header unit + the two records + the sync mark
        Assert.Equal(1, stats.Syncs);
        Assert.Equal(1, stats.DurabilityWaits);
        Assert.True(stats.TotalSyncTime > TimeSpan.Zero);
        Assert.Equal(stats.TotalSyncTime, stats.LastSyncDuration);
        Assert.Equal(2, stats.DurableSequence);
        Assert.Equal(1, stats.SegmentCount);
        Assert.Equal((double)stats.UsedBytes / stats.CapacityBytes, journal.FillRatio);
    }
}
