using S3Block.Cache.Journal;
using static S3Block.Tests.Journal.JournalTestKit;

namespace S3Block.Tests.Journal;

public sealed class FlushJournalBackpressureTests
{
    private const int Payload = 1024;
    private const int RecordSize = 512 + Payload;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // 16 KiB segments, 64 KiB capacity, delays above half full.
    private static JournalOptions Tiny() => Options(alignment: 512, segmentSize: 16 << 10, capacity: 64 << 10, highWaterMark: 0.5);

    [Fact]
    public async Task Appends_above_the_high_water_mark_are_delayed_and_a_full_journal_waits_for_release()
    {
        using var dir = TempDirectory.InMemory();
        await using var journal = Open(dir.Path, Tiny(), out _);
        var records = new List<AppendedRecord>();

        // Below the mark: no delay at all.
        while ((double)(journal.UsedBytes + RecordSize) / journal.CapacityBytes <= 0.5)
        {
            records.Add(await AppendWrite(journal, 0, Payload, seed: records.Count));
        }

        Assert.Equal(0, journal.GetStatistics().DelayedAppends);

        // Above it, every append is delayed (not failed) until one cannot fit at all.
        Task<AppendedRecord> pending;
        while (true)
        {
            var delayedBefore = journal.GetStatistics().DelayedAppends;
            pending = AppendWrite(journal, 0, Payload, seed: records.Count);
            await Eventually(() => pending.IsCompleted || journal.GetStatistics().AppendsWaitingForSpace == 1, "the append finishes or waits for space");
            if (!pending.IsCompleted)
            {
                break;
            }

            records.Add(await pending);
            Assert.Equal(delayedBefore + 1, journal.GetStatistics().DelayedAppends);
        }

        var full = journal.GetStatistics();
        Assert.True(full.FillRatio > 0.9, $"fill {full.FillRatio}");
        Assert.True(full.UsedBytes <= full.CapacityBytes);
        Assert.True(full.TotalAppendDelay > TimeSpan.Zero);
        Assert.False(pending.IsCompleted);

        // The uploader commits the oldest records: space comes back and the waiting append completes.
        journal.ReleaseThrough(records[15].Position.Sequence);
        var completed = await pending;
        Assert.Equal(records.Count + 1, completed.Position.Sequence);
        var back = new byte[Payload];
        journal.ReadPayload(completed.Position, back);
        Assert.Equal(completed.Payload, back);

        var stats = journal.GetStatistics();
        Assert.Equal(1, stats.AppendsWaitedForSpace);
        Assert.Equal(0, stats.AppendsWaitingForSpace);
        Assert.True(stats.UsedBytes <= stats.CapacityBytes);
    }

    [Fact]
    public async Task A_cancelled_wait_for_space_consumes_no_sequence_and_dispose_releases_waiters()
    {
        using var dir = TempDirectory.InMemory();
        var journal = Open(dir.Path, Tiny(), out _);
        using var cancel = new CancellationTokenSource();
        Task<JournalPosition> waiting;
        while (true)
        {
            waiting = journal.AppendWriteAsync(0, new byte[Payload], cancel.Token).AsTask();
            await Eventually(() => waiting.IsCompleted || journal.GetStatistics().AppendsWaitingForSpace == 1, "the append finishes or waits");
            if (!waiting.IsCompleted)
            {
                break;
            }

            await waiting;
        }

        var last = journal.GetStatistics().LastReservedSequence;
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(last, journal.GetStatistics().LastReservedSequence);
        await Eventually(() => journal.GetStatistics().AppendsWaitingForSpace == 0, "the cancelled append stops waiting");

        var abandoned = journal.AppendWriteAsync(0, new byte[Payload], Ct).AsTask();
        await Eventually(() => journal.GetStatistics().AppendsWaitingForSpace == 1, "the append waits for space");
        await journal.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => abandoned);
        Assert.Equal(last, journal.DurableSequence);
    }

    [Fact]
    public async Task Many_appenders_against_a_slow_uploader_all_complete_without_errors()
    {
        using var dir = TempDirectory.InMemory();
        await using var journal = Open(dir.Path, Tiny(), out _);
        var appenders = Enumerable.Range(0, 8).Select(t => Task.Run(
            async () =>
            {
                var mine = new List<AppendedRecord>();
                for (var i = 0; i < 40; i++)
                {
                    mine.Add(await AppendWrite(journal, t, Payload, seed: (t * 1000) + i));
                }

                return mine;
            },
            Ct)).ToArray();

        // A slow uploader: releases everything appended so far whenever the journal is above the mark.
        var all = Task.WhenAll(appenders);
        while (!all.IsCompleted)
        {
            if (journal.FillRatio > 0.5)
            {
                journal.ReleaseThrough(journal.AppendedSequence);
            }

            await Task.WhenAny(all, Task.Delay(2, Ct));
        }

        var records = (await all).SelectMany(r => r).ToList();
        Assert.Equal(320, records.Count);
        Assert.Equal(Enumerable.Range(1, 320).Select(i => (long)i), records.Select(r => r.Position.Sequence).Order());
        Assert.True(journal.GetStatistics().DelayedAppends > 0);
        Assert.True(journal.UsedBytes <= journal.CapacityBytes);
    }
}
