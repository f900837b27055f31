using System.Collections.Concurrent;
using S3Block.Cache.Journal;
using static S3Block.Tests.Journal.JournalTestKit;

namespace S3Block.Tests.Journal;

public sealed class FlushJournalAppendTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public async Task Many_records_round_trip_through_read_back_and_replay(int alignment)
    {
        using var dir = TempDirectory.InMemory();
        var options = Options(alignment, segmentSize: 256 << 10);
        var random = new Random(alignment);
        var appended = new List<AppendedRecord>();

        await using (var journal = Open(dir.Path, options, out var replayed))
        {
            Assert.Empty(replayed);
            for (var i = 0; i < 400; i++)
            {
                var kind = random.Next(10);
                AppendedRecord record;
                if (kind < 6)
                {
                    record = await AppendWrite(journal, random.Next(1 << 20) * 512L, random.Next(1, 129) * 512, seed: i);
                }
                else if (kind < 8)
                {
                    var offset = random.Next(1 << 20) * 512L;
                    var length = random.Next(1, 1 << 16) * 512L;
                    var position = await journal.AppendZeroAsync(offset, length, Ct);
                    record = new AppendedRecord(JournalRecordType.Zero, offset, length, [], position);
                }
                else
                {
                    var payload = Payload(random.Next(0, 3000), seed: i);
                    var position = await journal.AppendAsync(JournalRecordType.Opaque, -5, i, payload, Ct);
                    record = new AppendedRecord(JournalRecordType.Opaque, -5, i, payload, position);
                }

                Assert.Equal(i + 1, record.Position.Sequence);

                // Readable at once, before any sync.
                var back = new byte[record.Payload.Length];
                journal.ReadPayload(record.Position, back);
                Assert.Equal(record.Payload, back);
                appended.Add(record);
            }

            Assert.Equal(400, journal.AppendedSequence);
            Assert.True(SegmentFiles(dir.Path).Length > 3, "small segments should have rolled");
        }

        await using (var journal = Open(dir.Path, options, out var replayed))
        {
            AssertReplayed(appended, replayed);
            Assert.Equal(JournalDamageKind.None, journal.ReplayReport.DamageKind);
            Assert.False(journal.ReplayReport.Repaired);
            Assert.Equal(401, journal.ReplayReport.NextSequence);

            // Positions stay valid across the restart, including partial reads and async reads.
            foreach (var record in appended.Where(r => r.Payload.Length >= 1024))
            {
                var part = new byte[512];
                journal.ReadPayload(record.Position, 512, part);
                Assert.Equal(record.Payload.AsSpan(512, 512).ToArray(), part);
                var whole = new byte[record.Payload.Length];
                await journal.ReadPayloadAsync(record.Position, 0, whole, Ct);
                Assert.Equal(record.Payload, whole);
                Assert.True(journal.VerifyRecord(record.Position));
            }

            var next = await journal.AppendZeroAsync(0, 512, Ct);
            Assert.Equal(401, next.Sequence);
        }
    }

    [Fact]
    public async Task Concurrent_appenders_get_unique_contiguous_sequences_and_their_own_data_back()
    {
        using var dir = TempDirectory.InMemory();
        var options = Options(segmentSize: 512 << 10);
        const int tasks = 16;
        const int perTask = 150;
        var results = new ConcurrentBag<AppendedRecord>();

        await using (var journal = Open(dir.Path, options, out _))
        {
            await Task.WhenAll(Enumerable.Range(0, tasks).Select(t => Task.Run(
                async () =>
                {
                    var random = new Random(t);
                    for (var i = 0; i < perTask; i++)
                    {
                        var seed = (t * 100_000L) + i;
                        var record = await AppendWrite(journal, seed * 512, random.Next(1, 33) * 512, seed);
                        results.Add(record);
                        if (i % 25 == 0)
                        {
                            await journal.WaitDurableAsync(record.Position.Sequence, Ct);
                        }
                    }
                },
                Ct)));

            var sequences = results.Select(r => r.Position.Sequence).Order().ToArray();
            Assert.Equal(Enumerable.Range(1, tasks * perTask).Select(i => (long)i), sequences);
            Assert.Equal(tasks * perTask, results.Select(r => (r.Position.SegmentId, r.Position.RecordOffset)).Distinct().Count());
            foreach (var record in results)
            {
                var back = new byte[record.Payload.Length];
                journal.ReadPayload(record.Position, back);
                Assert.Equal(record.Payload, back);
            }

            await journal.FlushAsync(Ct);
            Assert.Equal(tasks * perTask, journal.DurableSequence);
        }

        await using (var journal = Open(dir.Path, options, out var replayed))
        {
            AssertReplayed([.. results.OrderBy(r => r.Position.Sequence)], replayed);
        }
    }

    [Fact]
    public async Task A_record_never_spans_segments_and_segments_are_named_by_their_first_sequence()
    {
        using var dir = TempDirectory.InMemory();
        var options = Options(alignment: 512, segmentSize: 16 << 10);
        var records = new List<AppendedRecord>();
        await using (var journal = Open(dir.Path, options, out _))
        {
            for (var i = 0; i < 30; i++)
            {
                records.Add(await AppendWrite(journal, 0, 3 * 512, seed: i));
            }
        }

        foreach (var record in records)
        {
            var segmentLength = new FileInfo(SegmentPath(dir.Path, record.Position.SegmentId)).Length;
            Assert.True(record.Position.RecordOffset + 512 + record.Payload.Length <= segmentLength);
            Assert.True(record.Position.RecordOffset + 512 + record.Payload.Length <= options.SegmentSizeBytes);
        }

        var firstOfEachSegment = records.GroupBy(r => r.Position.SegmentId).Select(g => (g.Key, g.Min(r => r.Position.Sequence)));
        foreach (var (segmentId, firstSequence) in firstOfEachSegment)
        {
            Assert.Equal(segmentId, firstSequence);
        }
    }

    [Fact]
    public async Task The_largest_payload_fits_and_a_larger_one_is_refused()
    {
        using var dir = TempDirectory.InMemory();
        var options = Options(alignment: 512, segmentSize: 16 << 10);
        await using var journal = Open(dir.Path, options, out _);

        var largest = (int)journal.MaxPayloadBytes;
        var record = await AppendWrite(journal, 0, largest, seed: 1);
        var back = new byte[largest];
        journal.ReadPayload(record.Position, back);
        Assert.Equal(record.Payload, back);

        await Assert.ThrowsAsync<ArgumentException>(async () => await journal.AppendWriteAsync(0, new byte[largest + 512], Ct));
        Assert.Throws<ArgumentOutOfRangeException>(() => journal.ReadPayload(record.Position, largest - 10, new byte[20]));
    }

    [Fact]
    public async Task An_empty_journal_starts_at_the_callers_sequence_and_an_existing_one_ignores_it()
    {
        using var dir = TempDirectory.InMemory();
        await using (var journal = Open(dir.Path, Options(), out _, firstSequence: 1000))
        {
            Assert.Equal(999, journal.DurableSequence);
            Assert.Equal(1000, (await journal.AppendZeroAsync(0, 512, Ct)).Sequence);
            Assert.True(File.Exists(SegmentPath(dir.Path, 1000)));
        }

        await using (var journal = Open(dir.Path, Options(), out var replayed, firstSequence: 5))
        {
            Assert.Equal(1000, Assert.Single(replayed).Record.Sequence);
            Assert.Equal(1001, (await journal.AppendZeroAsync(0, 512, Ct)).Sequence);
        }
    }

    [Fact]
    public async Task Appends_after_dispose_are_refused()
    {
        using var dir = TempDirectory.InMemory();
        var journal = Open(dir.Path, Options(), out _);
        await journal.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await journal.AppendZeroAsync(0, 512, Ct));
        await journal.DisposeAsync();
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Options(alignment: 1024).Validate());
        Assert.Throws<ArgumentException>(() => Options(segmentSize: 4096).Validate());
        Assert.Throws<ArgumentException>(() => Options(segmentSize: 1 << 20, capacity: 1 << 20).Validate());
        Assert.Throws<ArgumentException>(() => Options(highWaterMark: 0).Validate());
        new JournalOptions().Validate();
    }
}
