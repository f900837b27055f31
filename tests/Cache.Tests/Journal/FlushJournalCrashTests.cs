using System.Collections.Concurrent;
using S3Block.Cache.Journal;
using static S3Block.Tests.Journal.JournalTestKit;

namespace S3Block.Tests.Journal;

public sealed class FlushJournalCrashTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Snapshots the journal directory while appends, FUA waits and flushes run, then replays each snapshot: it must
    /// be a contiguous run of exactly what was appended, at least up to what was durable when the snapshot began,
    /// classified as a clean end or a torn tail (never as corruption), and appendable afterwards.
    /// </summary>
    [Fact]
    public async Task A_snapshot_taken_during_appends_replays_as_a_contiguous_prefix_of_what_was_appended()
    {
        using var dir = TempDirectory.OnDisk();
        var options = Options(alignment: 4096, segmentSize: 256 << 10);
        var appended = new ConcurrentDictionary<long, byte[]>();
        var snapshots = new List<(string Path, long DurableBefore)>();

        await using (var journal = Open(dir.Sub("live"), options, out _))
        {
            using var stop = new CancellationTokenSource();
            var appenders = Enumerable.Range(0, 6).Select(t => Task.Run(
                async () =>
                {
                    var random = new Random(t);
                    for (var i = 0; !stop.IsCancellationRequested; i++)
                    {
                        var record = await AppendWrite(journal, t * 4096L, random.Next(1, 40) * 512, seed: (t * 1_000_000L) + i);
                        appended[record.Position.Sequence] = record.Payload;
                        switch (random.Next(20))
                        {
                            case 0:
                                await journal.WaitDurableAsync(record.Position.Sequence, Ct);
                                break;
                            case 1:
                                await journal.FlushAsync(Ct);
                                break;
                        }
                    }
                },
                Ct)).ToArray();

            var random = new Random(42);
            for (var s = 0; s < 6; s++)
            {
                await Task.Delay(random.Next(5, 40), Ct);
                var durableBefore = journal.DurableSequence;
                var target = dir.Sub("snapshot" + s);
                CopyLikeACrash(journal.Directory, target);
                snapshots.Add((target, durableBefore));
            }

            await stop.CancelAsync();
            await Task.WhenAll(appenders);
        }

        Assert.Contains(snapshots, s => s.DurableBefore > 0);
        foreach (var (path, durableBefore) in snapshots)
        {
            long last;
            await using (var journal = Open(path, options, out var replayed))
            {
                var report = journal.ReplayReport;
                Assert.NotEqual(JournalDamageKind.MidJournalCorruption, report.DamageKind);
                TestContext.Current.TestOutputHelper?.WriteLine(
                    $"durable before {durableBefore}, replayed {report.RecordsReplayed}, {report.DamageKind} {report.Damage}, {report.ValidRecordsAfterDamage} valid after");
                for (var i = 0; i < replayed.Count; i++)
                {
                    var record = replayed[i];
                    Assert.Equal(i + 1, record.Record.Sequence);
                    Assert.Equal(appended[record.Record.Sequence], record.Payload);
                }

                last = replayed.Count;
                Assert.True(last >= durableBefore, $"snapshot lost durable records: replayed {last}, durable {durableBefore}");
                await AppendWrite(journal, 0, 512, seed: -1);
            }

            await using (var journal = Open(path, options, out var replayed))
            {
                Assert.Equal(last + 1, replayed.Count);
                Assert.Equal(JournalDamageKind.None, journal.ReplayReport.DamageKind);
            }
        }
    }

    /// <summary>
    /// Copies the segments newest first and each file from its end to its start. A real crash freezes every byte at
    /// one instant; a copy cannot, but reading higher positions first guarantees that any record the copy catches was
    /// appended no later than the moment its lower neighbours were read, which is what a point-in-time image gives.
    /// </summary>
    private static void CopyLikeACrash(string source, string target)
    {
        const int chunk = 16 << 10;
        var buffer = new byte[chunk];
        foreach (var file in SegmentFiles(source).Reverse())
        {
            using var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var output = new FileStream(Path.Combine(target, Path.GetFileName(file)), FileMode.CreateNew);
            var length = input.Length;
            output.SetLength(length);
            for (var end = length; end > 0; end -= chunk)
            {
                var start = Math.Max(0, end - chunk);
                input.Position = start;
                input.ReadExactly(buffer, 0, (int)(end - start));
                output.Position = start;
                output.Write(buffer, 0, (int)(end - start));
            }
        }
    }
}
