using Ublk.Server.Block;
using S3Block.Cache.Journal;
using S3Block.TestKit;
using S3Block.TestKit.Volume;
using S3Block.Volume;

namespace S3Block.LocalStack.Tests;

/// <summary>The volume's guarantees with a real S3 server: single writer, takeover, outages, S3-only recovery.</summary>
public sealed class VolumeOnS3Tests(S3BucketFixture bucket) : IClassFixture<S3BucketFixture>, IDisposable
{
    private readonly TempFolder _local = new("volume-s3");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Data_written_and_drained_reads_back_from_S3_alone()
    {
        using var harness = NewHarness();
        var data = Pattern(200 * 1024, 1);
        await using (var volume = await harness.OpenAsync())
        {
            await volume.WriteAsync(60 * 1024, data, WriteFlags.None, Ct);
            await volume.CloseAsync(drain: true, progress: null, Ct);
        }

        harness.DeleteLocalState();
        await using var fromS3 = await harness.OpenAsync(node: Guid.NewGuid());
        var read = new byte[data.Length];
        await fromS3.ReadAsync(60 * 1024, read, Ct);
        Assert.Equal(data, read);
    }

    [Fact]
    public async Task Of_two_writers_racing_for_a_volume_exactly_one_proceeds()
    {
        using var harness = NewHarness();
        var opens = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => Task.Run(async () =>
        {
            try
            {
                return await OpenAsync(harness, Guid.NewGuid(), $"racer-{i}", VolumeHarness.ManualCommits);
            }
            catch (VolumeInUseException)
            {
                return null;
            }
        }, Ct)));

        var winner = Assert.Single(opens, v => v is not null)!;
        await winner.WriteAsync(0, Pattern(4096, 2), WriteFlags.None, Ct);
        Assert.True(await winner.CommitOnceAsync(Ct));
        await winner.DisposeAsync();
    }

    [Fact]
    public async Task A_crashed_writers_lease_is_taken_only_by_force_and_the_successor_fences_it()
    {
        using var harness = NewHarness();
        var options = ShortLease();
        var crashed = await OpenAsync(harness, Guid.NewGuid(), "first", options);
        await crashed.WriteAsync(0, Pattern(4096, 1), WriteFlags.None, Ct);
        await crashed.CommitOnceAsync(Ct);
        await WaitForLeaseStateAsync(harness.Store, LeaseDataState.Clean);
        await crashed.CrashForTestsAsync(); // no lease release: it must expire

        var refusal = await Assert.ThrowsAsync<VolumeInUseException>(() => OpenAsync(harness, Guid.NewGuid(), "second", options));
        Assert.Contains("is in use by", refusal.Message, StringComparison.Ordinal);

        // Expired, but never released: the holder may have acknowledged FLUSHes after its last renewal.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        VolumeHoldsUnsyncedDataException? afterExpiry = null;
        while (afterExpiry is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500, Ct);
            afterExpiry = await Record.ExceptionAsync(() => OpenAsync(harness, Guid.NewGuid(), "third", options)) as VolumeHoldsUnsyncedDataException;
        }

        Assert.NotNull(afterExpiry);
        Assert.Contains("--force-takeover", afterExpiry.Message, StringComparison.Ordinal);
        await using var successor = await OpenAsync(harness, harness.Store, Guid.NewGuid(), "fourth", options, force: true);
        var read = new byte[4096];
        await successor.ReadAsync(0, read, Ct);
        Assert.Equal(Pattern(4096, 1), read);
        Assert.True(successor.Epoch > 1);
        Assert.NotNull(successor.ForcedTakeover);
    }

    [Fact]
    public async Task During_an_outage_writes_keep_landing_in_the_journal_and_drain_afterwards()
    {
        using var harness = NewHarness();
        var options = VolumeHarness.ManualCommits;
        options.CommitInterval = TimeSpan.FromMilliseconds(200);
        await using var volume = await harness.OpenAsync(options, journal: new JournalOptions { SegmentSizeBytes = 1 << 20, CapacityBytes = 16 << 20 });
        harness.Store.Down = true;
        var expected = new byte[harness.Descriptor.SizeBytes];
        for (var i = 0; i < 64; i++)
        {
            var data = Pattern(8192, 10 + i);
            await volume.WriteAsync(i * 8192L, data, WriteFlags.None, Ct);
            data.CopyTo(expected, i * 8192);
            if (i % 8 == 0)
            {
                await volume.FlushAsync(Ct);
            }
        }

        await Task.Delay(1000, Ct);
        Assert.True(harness.Store.CallsWhileDown > 0, "the uploader should have tried during the outage");
        Assert.True(volume.GetStatistics().DirtyBytes > 0);
        harness.Store.Down = false;
        await volume.DrainAsync(null, Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.Equal(0, volume.GetStatistics().DirtyBytes);
        await volume.CloseAsync(drain: true, progress: null, Ct);

        harness.DeleteLocalState();
        await using var fromS3 = await harness.OpenAsync(node: Guid.NewGuid());
        Assert.Equal(expected, await VolumeHarness.ReadAllAsync(fromS3));
    }

    [Fact]
    public async Task A_holder_cut_off_from_S3_with_flushed_data_is_taken_over_only_by_force_which_says_what_it_discards()
    {
        var prefix = $"vol-{Guid.NewGuid():N}/";
        using var harness = NewHarness(prefix);
        using var otherNodesStore = S3TestSettings.ProductionStore(bucket.Bucket, prefix);
        var options = ShortLease();
        var holder = await harness.OpenAsync(options);
        await holder.WriteAsync(0, Pattern(8192, 1), WriteFlags.None, Ct);
        await holder.WriteAsync(128 * 1024, Pattern(4096, 2), WriteFlags.ForceUnitAccess, Ct);
        await holder.FlushAsync(Ct);
        await WaitForLeaseStateAsync(otherNodesStore, LeaseDataState.Dirty); // the next renewal records it

        // The holder loses S3 for longer than the TTL plus the margin; its journal holds 12 KiB acknowledged as durable.
        harness.Store.Down = true;
        var lease = await VolumeLease.ReadAsync(otherNodesStore, new VolumeKeys(harness.Descriptor.Name), Ct);
        var expired = DateTimeOffset.FromUnixTimeMilliseconds(lease!.ExpiresAtUnixMs) + options.LeaseExpiryMargin + TimeSpan.FromMilliseconds(200);
        while (DateTimeOffset.UtcNow < expired)
        {
            await Task.Delay(expired - DateTimeOffset.UtcNow, Ct);
        }

        var refusal = await Assert.ThrowsAsync<VolumeHoldsUnsyncedDataException>(() => OpenAsync(harness, otherNodesStore, Guid.NewGuid(), "second", options, force: false));
        Assert.Contains($"{Environment.MachineName} (pid {Environment.ProcessId}", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("held 12288 bytes of flushed data that is not in S3", refusal.Message, StringComparison.Ordinal);
        Assert.Matches(@"the oldest at \S+ \S+ \(\d+ s ago\)", refusal.Message);

        await using var successor = await OpenAsync(harness, otherNodesStore, Guid.NewGuid(), "forced", options, force: true);
        Assert.Contains("DISCARDS", successor.ForcedTakeover, StringComparison.Ordinal);
        Assert.Contains("12288 bytes", successor.ForcedTakeover, StringComparison.Ordinal);
        var read = new byte[8192];
        await successor.ReadAsync(0, read, Ct);
        Assert.Equal(new byte[8192], read);

        harness.Store.Down = false;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (holder.GetStatistics().Fault is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, Ct);
        }

        Assert.Contains("lost the lease", holder.GetStatistics().Fault, StringComparison.Ordinal);
        await holder.CrashForTestsAsync();
    }

    [Fact]
    public async Task A_clean_release_is_taken_without_force_and_an_open_replaying_longer_than_the_TTL_keeps_its_lease()
    {
        using var harness = NewHarness();
        var options = ShortLease();
        await using (var first = await OpenAsync(harness, Guid.NewGuid(), "first", options))
        {
            await first.WriteAsync(0, Pattern(8192, 3), WriteFlags.None, Ct);
            await first.CloseAsync(drain: true, progress: null, Ct);
        }

        // Released clean: taken at once, without force.
        var second = await harness.OpenAsync(options);
        Assert.Null(second.ForcedTakeover);
        await second.WriteAsync(8192, Pattern(4096, 4), WriteFlags.None, Ct);
        await second.FlushAsync(Ct);
        await second.CrashForTestsAsync();

        // The same node reopens and replays for longer than TTL + margin: renewals run meanwhile.
        LeaseRecord? duringReplay = null;
        var checkedAt = DateTimeOffset.MinValue;
        var reopen = S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = harness.Store, VolumeName = harness.Descriptor.Name, JournalDirectory = harness.JournalDirectory, Options = options, Node = harness.Node,
            AfterJournalReplayForTests = async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(5), Ct);
                duringReplay = await VolumeLease.ReadAsync(harness.Store, new VolumeKeys(harness.Descriptor.Name), Ct);
                checkedAt = DateTimeOffset.UtcNow;
            },
        }, Ct);
        await using var reopened = await reopen.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.True(duringReplay!.ExpiresAtUnixMs > checkedAt.ToUnixTimeMilliseconds(), "the lease was not renewed during the replay");
        Assert.Equal(reopened.Epoch, duringReplay.Epoch);
        var image = await VolumeHarness.ReadAllAsync(reopened);
        Assert.Equal(Pattern(8192, 3), image[..8192]);
        Assert.Equal(Pattern(4096, 4), image[8192..12288]);
        Assert.True(await reopened.CommitOnceAsync(Ct));
    }

    public void Dispose() => _local.Dispose();

    private static VolumeOptions ShortLease()
    {
        var options = VolumeHarness.ManualCommits;
        options.LeaseTtl = TimeSpan.FromSeconds(3);
        options.LeaseExpiryMargin = TimeSpan.FromSeconds(1);
        return options;
    }

    private static async Task WaitForLeaseStateAsync(S3Block.ObjectStore.IObjectStore store, LeaseDataState state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await VolumeLease.ReadAsync(store, new VolumeKeys("vol"), Ct))!.DataState != state)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the lease never said {state}");
            await Task.Delay(50, Ct);
        }
    }

    private VolumeHarness NewHarness(string? prefix = null) =>
        new(sizeBytes: 1 << 20, chunkSize: 64 * 1024, store: S3TestSettings.ProductionStore(bucket.Bucket, prefix ?? $"vol-{Guid.NewGuid():N}/"));

    private Task<S3Volume> OpenAsync(VolumeHarness harness, Guid node, string journal, VolumeOptions options) =>
        OpenAsync(harness, harness.Store, node, journal, options, force: false);

    private Task<S3Volume> OpenAsync(VolumeHarness harness, S3Block.ObjectStore.IObjectStore store, Guid node, string journal, VolumeOptions options, bool force) =>
        S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = store,
            VolumeName = harness.Descriptor.Name,
            JournalDirectory = Path.Combine(_local.Path, journal),
            Options = options,
            Node = node,
            ForceTakeover = force,
        }, Ct);

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
