using Ublk.Server.Block;
using S3Block.ObjectStore;
using S3Block.Volume;

using S3Block.TestKit.Volume;

namespace S3Block.Tests.Volume;

public sealed class S3VolumeTests : IDisposable
{
    private readonly VolumeHarness _harness = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Writes_read_back_before_and_after_upload_and_from_S3_alone()
    {
        var data = Pattern(3 * 4096, seed: 1);
        await using (var volume = await _harness.OpenAsync())
        {
            await volume.WriteAsync(64 * 1024 - 4096, data, WriteFlags.None, Ct); // spans two chunks
            Assert.Equal(data, await ReadAsync(volume, 64 * 1024 - 4096, data.Length));

            Assert.True(await volume.CommitOnceAsync(Ct));

            Assert.Equal(data, await ReadAsync(volume, 64 * 1024 - 4096, data.Length));
            Assert.Equal(0, volume.GetStatistics().DirtyBytes);
        }

        _harness.DeleteLocalState();
        await using var fromS3 = await _harness.OpenAsync();
        Assert.Equal(data, await ReadAsync(fromS3, 64 * 1024 - 4096, data.Length));
        Assert.Equal(new byte[4096], await ReadAsync(fromS3, 0, 4096));
    }

    [Fact]
    public async Task The_volume_never_asks_to_run_on_a_ublk_queue_thread()
    {
        // Its reads may wait for S3 and its writes for the journal's disk: it must stay on the asynchronous path.
        await using var volume = await _harness.OpenAsync();

        Assert.False(((IBlockBackend)volume).CompletesInline);
    }

    [Fact]
    public async Task Overlapping_writes_apply_in_order_across_commits()
    {
        await using var volume = await _harness.OpenAsync();
        await volume.WriteAsync(0, Pattern(16384, 1), WriteFlags.None, Ct);
        await volume.CommitOnceAsync(Ct);
        await volume.WriteAsync(4096, Pattern(4096, 2), WriteFlags.None, Ct);
        await volume.WriteZeroesAsync(8192, 4096, Ct);
        await volume.WriteAsync(6144 - 2048, Pattern(4096, 3), WriteFlags.None, Ct);

        var expected = Pattern(16384, 1);
        Pattern(4096, 2).CopyTo(expected, 4096);
        Array.Clear(expected, 8192, 4096);
        Pattern(4096, 3).CopyTo(expected, 4096);

        Assert.Equal(expected, await ReadAsync(volume, 0, 16384));
        await volume.CommitOnceAsync(Ct);
        Assert.Equal(expected, await ReadAsync(volume, 0, 16384));
    }

    [Fact]
    public async Task A_full_device_discard_costs_metadata_not_uploads()
    {
        using var big = new VolumeHarness(sizeBytes: 1L << 30, chunkSize: 1 << 20);
        await using var volume = await big.OpenAsync();
        await volume.WriteAsync(5L << 20, Pattern(4096, 1), WriteFlags.None, Ct);
        await volume.CommitOnceAsync(Ct);
        var uploadedBefore = volume.GetStatistics().BytesUploaded;

        await volume.DiscardAsync(0, volume.SizeBytes, Ct);
        await volume.CommitOnceAsync(Ct);

        var statistics = volume.GetStatistics();
        Assert.Equal(uploadedBefore, statistics.BytesUploaded);
        Assert.Equal(0, statistics.DirtyExtents);
        Assert.Equal(new byte[4096], await ReadAsync(volume, 5L << 20, 4096));
        var chunkObjects = await big.Store.ListAllAsync("vol/chunks/", Ct).CountAsync(Ct);
        Assert.True(chunkObjects <= 1, $"{chunkObjects} chunk objects left (the superseded one may await garbage collection)");
    }

    [Fact]
    public async Task Never_written_chunks_read_as_zeros_without_touching_the_store()
    {
        await using var volume = await _harness.OpenAsync();
        await volume.InitialSweep; // its LIST is the only store call of a fresh open besides the lease's renewals
        _harness.Store.Down = true;

        var read = await ReadAsync(volume, 0, (int)volume.SizeBytes);

        Assert.Equal(new byte[volume.SizeBytes], read);
        Assert.Empty(_harness.Store.KeysWhileDownBesidesTheLease);
    }

    [Fact]
    public async Task In_remote_mode_flush_returns_only_once_a_commit_covers_the_write()
    {
        var options = VolumeHarness.ManualCommits;
        options.FlushMode = FlushMode.Remote;
        await using var volume = await _harness.OpenAsync(options);
        await volume.WriteAsync(0, Pattern(4096, 7), WriteFlags.None, Ct);
        var before = volume.GetStatistics().LastCommitNumber;

        await volume.FlushAsync(Ct);

        var after = volume.GetStatistics();
        Assert.True(after.LastCommitNumber > before);
        Assert.True(after.CommittedSequence >= after.IndexedSequence);
    }

    [Fact]
    public async Task A_second_writer_is_refused_while_the_lease_is_held()
    {
        await using var first = await _harness.OpenAsync();

        var refusal = await Assert.ThrowsAsync<VolumeInUseException>(() => _harness.OpenAsync(node: Guid.NewGuid()));

        Assert.Contains("is in use by", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forced_takeover_fences_the_old_writer_which_then_refuses_writes()
    {
        var old = await _harness.OpenAsync();
        await old.WriteAsync(0, Pattern(4096, 1), WriteFlags.None, Ct);
        await old.CommitOnceAsync(Ct);
        await old.WriteAsync(4096, Pattern(4096, 2), WriteFlags.None, Ct);

        await using var successor = await S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = _harness.Store, VolumeName = "vol", JournalDirectory = _harness.JournalDirectory + "-successor",
            Options = VolumeHarness.ManualCommits, Node = Guid.NewGuid(), ForceTakeover = true,
        }, Ct);

        // The old writer learns of the takeover from its next publish (the conditional put fails), or first from the
        // lease renewal its first commit asked for (RenewSoon), when that renewal runs after the takeover: the renewal
        // faults it and the commit then publishes nothing. Which comes first is a race; both must fence it.
        try
        {
            Assert.False(await old.CommitOnceAsync(Ct));
            Assert.Contains("lost the lease", old.GetStatistics().Fault, StringComparison.Ordinal);
        }
        catch (VolumeFencedException)
        {
            // The commit's conditional put found the successor's fence.
        }

        Assert.Equal(Pattern(4096, 1), await ReadAsync(successor, 0, 4096));
        Assert.Equal(new byte[4096], await ReadAsync(successor, 4096, 4096));
        await old.CrashForTestsAsync();
    }

    [Fact]
    public async Task A_stale_local_journal_is_never_replayed_over_another_writers_commits()
    {
        var first = await _harness.OpenAsync();
        await first.WriteAsync(0, Pattern(4096, 1), WriteFlags.None, Ct);
        await first.FlushAsync(Ct);
        await first.CrashForTestsAsync();
        var otherJournal = Path.Combine(Path.GetDirectoryName(_harness.JournalDirectory)!, "other-journal");
        await using (var other = await S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = _harness.Store, VolumeName = "vol", JournalDirectory = otherJournal, Options = VolumeHarness.ManualCommits,
            Node = Guid.NewGuid(), ForceTakeover = true,
        }, Ct))
        {
            await other.WriteAsync(8192, Pattern(4096, 2), WriteFlags.None, Ct);
            await other.CommitOnceAsync(Ct);
        }

        var refusal = await Assert.ThrowsAsync<VolumeException>(() => _harness.OpenAsync(force: true));

        Assert.Contains("was written by another node", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Writes_continue_during_an_outage_and_drain_when_the_store_returns()
    {
        await using var volume = await _harness.OpenAsync();
        await volume.WriteAsync(0, Pattern(8192, 1), WriteFlags.None, Ct);
        await volume.CommitOnceAsync(Ct);
        _harness.Store.Down = true;

        for (var i = 0; i < 20; i++)
        {
            await volume.WriteAsync(i * 4096L, Pattern(4096, 100 + i), WriteFlags.None, Ct);
            await volume.FlushAsync(Ct);
        }

        var drain = volume.DrainAsync(null, Ct);
        await Task.Delay(300, Ct);
        Assert.False(drain.IsCompleted);
        Assert.True(_harness.Store.CallsWhileDown > 0);
        _harness.Store.Down = false;
        await drain.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await volume.DrainAsync(null, Ct);

        var expected = new byte[volume.SizeBytes];
        for (var i = 0; i < 20; i++)
        {
            Pattern(4096, 100 + i).CopyTo(expected, i * 4096);
        }

        Assert.Equal(expected, await VolumeHarness.ReadAllAsync(volume));
        Assert.Equal(0, volume.GetStatistics().DirtyBytes);
        Assert.True(volume.GetStatistics().StoreRetries > 0);
    }

    [Fact]
    public async Task A_conditional_put_refused_without_landing_is_retried_not_taken_for_a_takeover()
    {
        // RadosGW answers 500 to conditional PUTs while it starts or goes away; the store reports those as lost races.
        // Seen in the VM's 60 s outage test: the commit after the outage found no winner, the volume faulted, and the
        // backlog never drained.
        await using var volume = await _harness.OpenAsync();
        await volume.WriteAsync(0, Pattern(8192, 7), WriteFlags.None, Ct);
        _harness.Store.RefuseNextConditionalPutUnder = new VolumeKeys("vol").CommitsPrefix;

        Assert.True(await volume.CommitOnceAsync(Ct));

        Assert.Null(_harness.Store.RefuseNextConditionalPutUnder);
        var statistics = volume.GetStatistics();
        Assert.Null(statistics.Fault);
        Assert.Equal(0, statistics.DirtyBytes);
        Assert.True(statistics.StoreRetries > 0);
        await volume.WriteAsync(8192, Pattern(4096, 8), WriteFlags.None, Ct);
        await volume.CloseAsync(drain: true, progress: null, Ct);
        _harness.DeleteLocalState();
        await using var fromS3 = await _harness.OpenAsync();
        var image = await VolumeHarness.ReadAllAsync(fromS3);
        Assert.Equal(Pattern(8192, 7), image[..8192]);
        Assert.Equal(Pattern(4096, 8), image[8192..12288]);
    }

    [Fact]
    public async Task A_writer_that_lost_the_lease_does_not_fill_in_a_commit_number_it_finds_free()
    {
        var keys = new VolumeKeys("vol");
        var old = await _harness.OpenAsync();
        await old.WriteAsync(0, Pattern(4096, 1), WriteFlags.None, Ct);
        var commitsBefore = await _harness.Store.ListAllAsync(keys.CommitsPrefix, Ct).CountAsync(Ct);
        // Another node takes the lease; the old writer's commit PUT then fails without landing.
        await VolumeLease.AcquireAsync(_harness.Store, keys, Guid.NewGuid(), TimeSpan.FromMinutes(1), 0, force: true, TimeProvider.System, Ct);
        _harness.Store.RefuseNextConditionalPutUnder = keys.CommitsPrefix;

        var fenced = await Assert.ThrowsAsync<VolumeFencedException>(() => old.CommitOnceAsync(Ct));

        Assert.Contains("lost the lease of volume 'vol'", fenced.Message, StringComparison.Ordinal);
        Assert.Equal(commitsBefore, await _harness.Store.ListAllAsync(keys.CommitsPrefix, Ct).CountAsync(Ct));
        await old.CrashForTestsAsync();
    }

    [Fact]
    public async Task Once_the_lease_loop_finds_a_takeover_the_writer_publishes_and_deletes_nothing()
    {
        var keys = new VolumeKeys("vol");
        var options = VolumeHarness.ManualCommits;
        options.LeaseTtl = TimeSpan.FromSeconds(3); // renewals every second
        var old = await _harness.OpenAsync(options);
        await old.WriteAsync(0, Pattern(4096, 1), WriteFlags.None, Ct);
        var commitsBefore = await _harness.Store.ListAllAsync(keys.CommitsPrefix, Ct).CountAsync(Ct);

        // A takeover that has not published its fence commit yet: the old writer's next number is still free.
        await VolumeLease.AcquireAsync(_harness.Store, keys, Guid.NewGuid(), TimeSpan.FromMinutes(1), 0, force: true, TimeProvider.System, Ct);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (old.GetStatistics().Fault is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
        }

        Assert.Contains("lost the lease", old.GetStatistics().Fault, StringComparison.Ordinal);
        Assert.False(await old.CommitOnceAsync(Ct));
        Assert.Equal(commitsBefore, await _harness.Store.ListAllAsync(keys.CommitsPrefix, Ct).CountAsync(Ct));
        await old.CrashForTestsAsync();
    }

    [Fact]
    public async Task A_writer_whose_lease_ran_out_while_paused_publishes_nothing_before_renewing_it()
    {
        var keys = new VolumeKeys("vol");
        var options = VolumeHarness.ManualCommits;
        options.LeaseTtl = TimeSpan.FromSeconds(3);
        var clock = new JumpingClock();
        var old = await S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = _harness.Store, VolumeName = "vol", JournalDirectory = _harness.JournalDirectory,
            Options = options, Node = _harness.Node, Time = clock,
        }, Ct);
        await old.WriteAsync(0, Pattern(4096, 1), WriteFlags.None, Ct);
        var commitsBefore = await _harness.Store.ListAllAsync(keys.CommitsPrefix, Ct).CountAsync(Ct);

        // The process is paused for a minute; meanwhile another node takes the lease (its fence not yet published).
        clock.Skip(TimeSpan.FromMinutes(1));
        await VolumeLease.AcquireAsync(_harness.Store, keys, Guid.NewGuid(), TimeSpan.FromMinutes(1), 0, force: true, TimeProvider.System, Ct);

        await Assert.ThrowsAsync<VolumeFencedException>(() => old.CommitOnceAsync(Ct));
        Assert.Contains("lost the lease", old.GetStatistics().Fault, StringComparison.Ordinal);
        Assert.Equal(commitsBefore, await _harness.Store.ListAllAsync(keys.CommitsPrefix, Ct).CountAsync(Ct));
        await old.CrashForTestsAsync();
    }

    /// <summary>The system clock, plus whatever <see cref="Skip"/> added (a process that was paused).</summary>
    private sealed class JumpingClock : TimeProvider
    {
        private long _offsetTicks;

        public void Skip(TimeSpan time) => Interlocked.Add(ref _offsetTicks, time.Ticks);

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
    }

    [Fact]
    public async Task A_read_of_uploaded_data_during_an_outage_fails_with_EIO_after_the_read_timeout()
    {
        await using (var writer = await _harness.OpenAsync())
        {
            await writer.WriteAsync(0, Pattern(4096, 1), WriteFlags.None, Ct);
            await writer.CloseAsync(drain: true, progress: null, Ct);
        }

        await using var volume = await _harness.OpenAsync();
        _harness.Store.Down = true;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var failure = await Assert.ThrowsAsync<BlockIOException>(() => ReadAsync(volume, 0, 4096));

        Assert.Equal(BlockIOException.EIO, failure.Errno);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task Checkpoints_bound_what_opening_reads_and_old_records_and_versions_are_deleted()
    {
        await using (var volume = await _harness.OpenAsync())
        {
            for (var i = 0; i < 20; i++)
            {
                await volume.WriteAsync(0, Pattern(4096, i), WriteFlags.None, Ct);
                await volume.CommitOnceAsync(Ct);
            }

            var statistics = volume.GetStatistics();
            Assert.True(statistics.CheckpointsWritten >= 4);
            Assert.True(statistics.GarbageDeleted > 10);
            await volume.CloseAsync(drain: true, progress: null, Ct);
        }

        var commits = await _harness.Store.ListAllAsync("vol/commits/", Ct).CountAsync(Ct);
        var chunkVersions = await _harness.Store.ListAllAsync("vol/chunks/", Ct).CountAsync(Ct);
        Assert.InRange(commits, 1, 2 * VolumeHarness.ManualCommits.CheckpointEvery + 1);
        Assert.InRange(chunkVersions, 1, 2 * VolumeHarness.ManualCommits.CheckpointEvery);
        _harness.DeleteLocalState();
        await using var reopened = await _harness.OpenAsync();
        Assert.Equal(Pattern(4096, 19), await ReadAsync(reopened, 0, 4096));
    }

    [Fact]
    public async Task Misaligned_or_out_of_range_requests_are_EINVAL()
    {
        await using var volume = await _harness.OpenAsync();

        var misaligned = await Assert.ThrowsAsync<BlockIOException>(() => volume.WriteAsync(100, new byte[4096], WriteFlags.None, Ct).AsTask());
        var beyond = await Assert.ThrowsAsync<BlockIOException>(() => volume.ReadAsync(volume.SizeBytes, new byte[4096], Ct).AsTask());

        Assert.Equal(BlockIOException.EINVAL, misaligned.Errno);
        Assert.Equal(BlockIOException.EINVAL, beyond.Errno);
    }

    [Fact]
    public async Task A_flush_covers_a_write_acknowledged_while_a_lower_sequence_is_still_being_indexed()
    {
        await using var volume = await _harness.OpenAsync();
        var held = new TaskCompletionSource();
        volume.BeforeIndexForTests = sequence => sequence == 1 ? held.Task : Task.CompletedTask;
        var lower = volume.WriteAsync(0, Pattern(4096, 1), WriteFlags.None, Ct).AsTask(); // sequence 1, held before indexing
        await volume.WriteAsync(4096, Pattern(4096, 2), WriteFlags.None, Ct);         // sequence 2: acknowledged

        await volume.FlushAsync(Ct);

        Assert.True(volume.JournalForTests.DurableSequence >= 2, $"FLUSH returned with durable sequence {volume.JournalForTests.DurableSequence}");
        Assert.False(lower.IsCompleted);
        held.SetResult();
        await lower;
    }

    [Fact]
    public async Task A_remote_mode_flush_fails_instead_of_hanging_once_an_upload_faults_the_volume()
    {
        var options = VolumeHarness.ManualCommits;
        options.FlushMode = FlushMode.Remote;
        await using var volume = await _harness.OpenAsync(options);
        await volume.WriteAsync(0, Pattern(4096, 1), WriteFlags.None, Ct);

        // Damage the record's payload on the local disk: the uploader's CRC check faults the volume on it.
        var segment = Directory.GetFiles(_harness.JournalDirectory, "*.journal").Order().First();
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
        {
            file.Position = 8192 + 10;
            var b = file.ReadByte();
            file.Position = 8192 + 10;
            file.WriteByte((byte)(b ^ 1));
        }

        var flush = volume.FlushAsync(Ct).AsTask();
        var finished = await Task.WhenAny(flush, Task.Delay(TimeSpan.FromSeconds(30), Ct));
        Assert.Same(flush, finished);
        var error = await Assert.ThrowsAsync<BlockIOException>(() => flush);
        Assert.Contains("CRC", error.Message);
    }

    [Fact]
    public async Task A_failed_journal_fdatasync_fails_the_flush_and_shows_in_the_statistics()
    {
        await using var volume = await _harness.OpenAsync();
        await volume.WriteAsync(0, Pattern(4096, 1), WriteFlags.None, Ct);
        volume.JournalForTests.SyncFailureForTests = _ => throw new IOException("fdatasync failed: Input/output error (errno 5)");

        await Assert.ThrowsAnyAsync<Exception>(async () => await volume.FlushAsync(Ct));

        Assert.Contains("fdatasync", volume.GetStatistics().JournalFault);
        await Assert.ThrowsAnyAsync<Exception>(async () => await volume.WriteAsync(4096, Pattern(4096, 2), WriteFlags.None, Ct));
        File.Delete(S3Block.Cache.Journal.JournalSyncFailure.MemoryPath(_harness.JournalDirectory));
    }

    [Fact]
    public async Task A_torn_journal_tail_is_cut_reported_and_never_read_as_data()
    {
        var volume = await _harness.OpenAsync();
        await volume.WriteAsync(0, Pattern(4096, 1), WriteFlags.None, Ct);
        await volume.FlushAsync(Ct);
        await volume.WriteAsync(4096, Pattern(8192, 2), WriteFlags.None, Ct);
        await volume.CrashForTestsAsync();
        var segment = Directory.GetFiles(_harness.JournalDirectory, "*.journal").Order().Last();
        var end = Array.FindLastIndex(File.ReadAllBytes(segment), b => b != 0) + 1; // the segment is preallocated
        using (var stream = new FileStream(segment, FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(end - 5000); // inside the unsynced second record
        }

        await using var recovered = await _harness.OpenAsync();

        Assert.Equal(S3Block.Cache.Journal.JournalDamageKind.TornTail, recovered.JournalReplay.DamageKind);
        Assert.Equal(Pattern(4096, 1), await ReadAsync(recovered, 0, 4096));
        Assert.Equal(new byte[8192], await ReadAsync(recovered, 4096, 8192));
    }

    [Fact]
    public async Task A_bit_flip_in_a_durable_journal_record_refuses_the_volume()
    {
        var volume = await _harness.OpenAsync();
        await volume.WriteAsync(0, Pattern(4096, 1), WriteFlags.None, Ct);
        await volume.FlushAsync(Ct);
        await volume.WriteAsync(4096, Pattern(4096, 2), WriteFlags.None, Ct);
        await volume.FlushAsync(Ct);
        await volume.CrashForTestsAsync();
        var segment = Directory.GetFiles(_harness.JournalDirectory, "*.journal").Order().First();
        using (var stream = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            // The first record's payload: after the segment header unit and the record header unit (4 KiB each).
            stream.Position = (2 * 4096) + 100;
            var value = stream.ReadByte();
            stream.Position = (2 * 4096) + 100;
            stream.WriteByte((byte)(value ^ 0x10));
        }

        var refusal = await Assert.ThrowsAsync<VolumeException>(() => _harness.OpenAsync());

        Assert.Contains("journal of volume 'vol' is corrupt", refusal.Message, StringComparison.Ordinal);
        Assert.IsType<S3Block.Cache.Journal.JournalCorruptedException>(refusal.InnerException);
        var lease = await VolumeLease.ReadAsync(_harness.Store, new VolumeKeys("vol"), Ct);
        Assert.Equal(0, lease!.ExpiresAtUnixMs); // the failed open gave the lease back
    }

    [Fact]
    public async Task Orphans_of_an_upload_interrupted_by_a_crash_are_swept_at_the_next_open()
    {
        var oneAtATime = VolumeHarness.ManualCommits;
        oneAtATime.MaxUploadsInFlight = 1; // so the crash at the third upload leaves exactly two orphans
        var volume = await _harness.OpenAsync(oneAtATime);
        for (var chunk = 0; chunk < 4; chunk++)
        {
            await volume.WriteAsync(chunk * 64L * 1024, Pattern(4096, chunk), WriteFlags.None, Ct);
        }

        _harness.Store.CrashAtChunkPut = 3;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => volume.CommitOnceAsync(_harness.Store.Crashed.Token));
        await volume.CrashForTestsAsync();
        _harness.Store.ResetCrash();
        var orphans = await _harness.Store.ListAllAsync("vol/chunks/", Ct).CountAsync(Ct);

        await using var recovered = await _harness.OpenAsync();
        await recovered.InitialSweep;

        Assert.Equal(2, orphans);
        Assert.Equal(0, await _harness.Store.ListAllAsync("vol/chunks/", Ct).CountAsync(Ct));
        Assert.True(await recovered.CommitOnceAsync(Ct));
        Assert.Equal(4, await _harness.Store.ListAllAsync("vol/chunks/", Ct).CountAsync(Ct));
        Assert.Equal(Pattern(4096, 3), await ReadAsync(recovered, 3 * 64L * 1024, 4096));
    }

    public void Dispose() => _harness.Dispose();

    internal static async Task<byte[]> ReadAsync(S3Volume volume, long offset, int length)
    {
        var buffer = new byte[length];
        await volume.ReadAsync(offset, buffer, Ct);
        return buffer;
    }

    internal static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
