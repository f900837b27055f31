using Ublk.Server.Block;
using S3Block.ObjectStore;
using S3Block.ObjectStore.Local;
using S3Block.TestKit;
using S3Block.TestKit.Volume;
using S3Block.Volume;

namespace S3Block.Tests.Volume;

/// <summary>
/// Ownership never silently discards flushed data (issue 10, point 3): what the lease says about data not in S3, who
/// may take it over without force, renewal during a long open, and the orphan sweep's limits.
/// </summary>
public sealed class TakeoverTests : IDisposable
{
    private readonly TempFolder _folder = new("takeover");
    private readonly GatedStore _shared;
    private readonly VolumeHarness _harness;
    private readonly VolumeKeys _keys = new("vol");

    public TakeoverTests()
    {
        _shared = new GatedStore(new LocalDirectoryObjectStore(Path.Combine(_folder.Path, "store")));
        _harness = new VolumeHarness(store: _shared);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Short leases (renewed every second) and a 1 s skew margin, uploads only when the test says.</summary>
    private static VolumeOptions ShortLease
    {
        get
        {
            var options = VolumeHarness.ManualCommits;
            options.LeaseTtl = TimeSpan.FromSeconds(3);
            options.LeaseExpiryMargin = TimeSpan.FromSeconds(1);
            return options;
        }
    }

    [Fact]
    public async Task A_holder_cut_off_from_S3_with_flushed_data_is_not_taken_over_without_force()
    {
        var holder = await _harness.OpenAsync(ShortLease);
        var writtenAfter = DateTimeOffset.UtcNow;
        await holder.WriteAsync(0, Pattern(8192, 1), WriteFlags.None, Ct);
        await holder.FlushAsync(Ct); // acknowledged: durable in the holder's journal only
        var flushedBy = DateTimeOffset.UtcNow;
        await WaitForLeaseStateAsync(LeaseDataState.Dirty); // the next renewal records it

        // The holder loses S3 (its renewals fail) for longer than the TTL plus the margin.
        _harness.Store.Down = true;
        await WaitUntilExpiredAsync(ShortLease.LeaseExpiryMargin);

        var refusal = await Assert.ThrowsAsync<VolumeHoldsUnsyncedDataException>(() => OpenOtherNodeAsync("other", force: false));

        Assert.Contains(Environment.MachineName, refusal.Message, StringComparison.Ordinal);
        Assert.Contains($"pid {Environment.ProcessId}", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("held 8192 bytes of flushed data that is not in S3", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("written after commit 1", refusal.Message, StringComparison.Ordinal);
        Assert.Matches(@"the oldest at \S+ \S+ \(\d+ s ago\)", refusal.Message);
        Assert.Contains("--force-takeover", refusal.Message, StringComparison.Ordinal);
        Assert.Equal(LeaseDataState.Dirty, refusal.Holder.DataState);
        Assert.Equal(8192, refusal.Holder.UnsyncedBytes);
        Assert.InRange(refusal.Holder.UnsyncedSinceUnixMs, writtenAfter.ToUnixTimeMilliseconds() - 1, flushedBy.ToUnixTimeMilliseconds() + 1);

        // Forced, it proceeds and says what it discards; the holder's data is indeed not there.
        await using var successor = await OpenOtherNodeAsync("forced", force: true);
        Assert.NotNull(successor.ForcedTakeover);
        Assert.Contains("DISCARDS", successor.ForcedTakeover, StringComparison.Ordinal);
        Assert.Contains("8192 bytes", successor.ForcedTakeover, StringComparison.Ordinal);
        Assert.Contains(Environment.MachineName, successor.ForcedTakeover, StringComparison.Ordinal);
        Assert.Equal(new byte[8192], await ReadAsync(successor, 0, 8192));

        // The old holder, back on S3, finds itself fenced.
        _harness.Store.Down = false;
        await WaitForFaultAsync(holder);
        await holder.CrashForTestsAsync();
    }

    [Fact]
    public async Task A_lease_released_clean_is_taken_without_force()
    {
        await using (var holder = await _harness.OpenAsync(ShortLease))
        {
            await holder.WriteAsync(0, Pattern(8192, 2), WriteFlags.None, Ct);
            await holder.FlushAsync(Ct);
            await holder.CloseAsync(drain: true, progress: null, Ct);
        }

        var released = await VolumeLease.ReadAsync(_shared, _keys, Ct);
        Assert.Equal(LeaseDataState.Clean, released!.DataState);
        Assert.True(released.IsReleased);

        await using var successor = await OpenOtherNodeAsync("other", force: false);

        Assert.Null(successor.ForcedTakeover);
        Assert.Equal(Pattern(8192, 2), await ReadAsync(successor, 0, 8192));
    }

    [Fact]
    public async Task A_lease_that_expired_without_a_release_needs_force_even_if_its_holder_last_reported_clean()
    {
        var holder = await _harness.OpenAsync(ShortLease);
        await holder.WriteAsync(0, Pattern(4096, 3), WriteFlags.None, Ct);
        await holder.FlushAsync(Ct);
        Assert.True(await holder.CommitOnceAsync(Ct));
        await WaitForLeaseStateAsync(LeaseDataState.Clean); // the commit left nothing behind: the next renewal says so
        await holder.CrashForTestsAsync();
        await WaitUntilExpiredAsync(ShortLease.LeaseExpiryMargin);

        // It may have acknowledged FLUSHes after its last renewal: only its release could have said otherwise.
        var refusal = await Assert.ThrowsAsync<VolumeHoldsUnsyncedDataException>(() => OpenOtherNodeAsync("other", force: false));
        Assert.Contains("held no data missing from S3 as of its last lease write", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("may have acknowledged more FLUSHes after that", refusal.Message, StringComparison.Ordinal);

        await using var successor = await OpenOtherNodeAsync("forced", force: true);
        Assert.Contains("forced takeover of volume 'vol'", successor.ForcedTakeover, StringComparison.Ordinal);
        Assert.Equal(Pattern(4096, 3), await ReadAsync(successor, 0, 4096));
    }

    [Fact]
    public async Task An_open_that_failed_with_a_journal_gives_the_lease_back_but_not_as_clean()
    {
        var first = await _harness.OpenAsync(ShortLease);
        await first.WriteAsync(0, Pattern(4096, 5), WriteFlags.None, Ct);
        await first.FlushAsync(Ct);
        await first.CrashForTestsAsync();
        await using (var other = await OpenOtherNodeAsync("other", force: true))
        {
            await other.CloseAsync(drain: true, progress: null, Ct);
        }

        // This node's journal holds a write the other node never saw: the open is refused and releases the lease.
        await Assert.ThrowsAsync<VolumeException>(() => _harness.OpenAsync(ShortLease));

        var lease = await VolumeLease.ReadAsync(_shared, _keys, Ct);
        Assert.True(lease!.IsReleased);
        Assert.Equal(LeaseDataState.Opening, lease.DataState);
        Assert.False(lease.IsReleasedClean);
        await Assert.ThrowsAsync<VolumeHoldsUnsyncedDataException>(() => OpenOtherNodeAsync("third", force: false));
    }

    [Fact]
    public async Task An_open_whose_journal_replay_outlasts_the_TTL_keeps_its_lease()
    {
        var first = await _harness.OpenAsync(ShortLease);
        await first.WriteAsync(0, Pattern(8192, 6), WriteFlags.None, Ct);
        await first.FlushAsync(Ct);
        await first.CrashForTestsAsync();
        await WaitUntilExpiredAsync(TimeSpan.Zero);

        LeaseRecord? duringReplay = null;
        DateTimeOffset checkedAt = default;
        Exception? rival = null;
        var open = S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = _harness.Store, VolumeName = "vol", JournalDirectory = _harness.JournalDirectory, Options = ShortLease, Node = _harness.Node,
            AfterJournalReplayForTests = async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(5), Ct); // a replay longer than the 3 s TTL plus the 1 s margin
                duringReplay = await VolumeLease.ReadAsync(_shared, _keys, Ct);
                checkedAt = DateTimeOffset.UtcNow;
                rival = await Record.ExceptionAsync(() => OpenOtherNodeAsync("rival", force: false));
            },
        }, Ct);
        await using var volume = await open.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.True(duringReplay!.ExpiresAtUnixMs > checkedAt.ToUnixTimeMilliseconds(), "the lease was not renewed during the replay");
        Assert.Equal(LeaseDataState.Opening, duringReplay.DataState);
        Assert.IsType<VolumeInUseException>(rival); // a live lease, not merely an expired one with data behind it
        Assert.Equal(volume.Epoch, duringReplay.Epoch);
        Assert.Null(volume.GetStatistics().Fault);
        Assert.Equal(Pattern(8192, 6), await ReadAsync(volume, 0, 8192));
        await volume.FlushAsync(Ct);
        Assert.True(await volume.CommitOnceAsync(Ct));
    }

    [Fact]
    public async Task The_orphan_sweep_never_deletes_a_newer_writers_objects()
    {
        // The first writer's sweep lists the chunks only after a newer writer took over and committed its own.
        _shared.HoldListsUnder = _keys.ChunksPrefix;
        var old = await _harness.OpenAsync(ShortLease);
        await _shared.ListHeld.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var successor = await S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = _shared.Inner, VolumeName = "vol", JournalDirectory = Path.Combine(_folder.Path, "successor"), Options = ShortLease,
            Node = Guid.NewGuid(), ForceTakeover = true,
        }, Ct);
        for (var chunk = 0; chunk < 3; chunk++)
        {
            await successor.WriteAsync(chunk * 64L * 1024, Pattern(4096, 10 + chunk), WriteFlags.None, Ct);
        }

        Assert.True(await successor.CommitOnceAsync(Ct));
        var newer = await _shared.Inner.ListAllAsync(_keys.ChunksPrefix, Ct).Select(o => o.Key).ToListAsync(Ct);
        Assert.Equal(3, newer.Count);

        _shared.ReleaseLists();
        await old.InitialSweep;

        Assert.Equal(newer, await _shared.Inner.ListAllAsync(_keys.ChunksPrefix, Ct).Select(o => o.Key).ToListAsync(Ct));
        for (var chunk = 0; chunk < 3; chunk++)
        {
            Assert.Equal(Pattern(4096, 10 + chunk), await ReadAsync(successor, chunk * 64L * 1024, 4096));
        }

        await old.CrashForTestsAsync();
        await successor.DisposeAsync();
    }

    public void Dispose()
    {
        _harness.Dispose();
        _folder.Dispose();
    }

    private Task<S3Volume> OpenOtherNodeAsync(string journal, bool force) =>
        S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = _shared.Inner, VolumeName = "vol", JournalDirectory = Path.Combine(_folder.Path, journal), Options = ShortLease,
            Node = Guid.NewGuid(), ForceTakeover = force,
        }, Ct);

    /// <summary>Waits until the stored lease is past its expiry plus <paramref name="margin"/> (by this clock).</summary>
    private async Task WaitUntilExpiredAsync(TimeSpan margin)
    {
        var lease = await VolumeLease.ReadAsync(_shared.Inner, _keys, Ct);
        var until = DateTimeOffset.FromUnixTimeMilliseconds(lease!.ExpiresAtUnixMs) + margin + TimeSpan.FromMilliseconds(200);
        while (DateTimeOffset.UtcNow < until)
        {
            await Task.Delay(until - DateTimeOffset.UtcNow, Ct);
        }

        var again = await VolumeLease.ReadAsync(_shared.Inner, _keys, Ct);
        Assert.Equal(lease, again); // nobody renewed it meanwhile
    }

    private async Task WaitForLeaseStateAsync(LeaseDataState state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await VolumeLease.ReadAsync(_shared.Inner, _keys, Ct))!.DataState != state)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the lease never said {state}");
            await Task.Delay(50, Ct);
        }
    }

    private static async Task WaitForFaultAsync(S3Volume volume)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (volume.GetStatistics().Fault is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the old holder never noticed the takeover");
            await Task.Delay(50, Ct);
        }

        Assert.Contains("lost the lease", volume.GetStatistics().Fault, StringComparison.Ordinal);
    }

    private static async Task<byte[]> ReadAsync(S3Volume volume, long offset, int length)
    {
        var buffer = new byte[length];
        await volume.ReadAsync(offset, buffer, Ct);
        return buffer;
    }

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>A store whose LISTs under one prefix wait until released (a sweep that runs late).</summary>
    private sealed class GatedStore(IObjectStore inner) : IObjectStore
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IObjectStore Inner => inner;

        public string? HoldListsUnder { get; set; }

        /// <summary>Completes when a LIST is first held.</summary>
        public Task ListHeld => _held.Task;

        public string Location => inner.Location;

        public void ReleaseLists() => _released.TrySetResult();

        public Task<ObjectContent> GetAsync(string key, ByteRange? range, CancellationToken cancellationToken) => inner.GetAsync(key, range, cancellationToken);

        public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken) => inner.HeadAsync(key, cancellationToken);

        public Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, CancellationToken cancellationToken) =>
            inner.PutAsync(key, content, condition, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

        public Task<IReadOnlyList<DeleteFailure>> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
            inner.DeleteManyAsync(keys, cancellationToken);

        public async Task<ListPage> ListPageAsync(string prefix, string? continuationToken, int maxKeys, CancellationToken cancellationToken)
        {
            if (HoldListsUnder is { } held && prefix.StartsWith(held, StringComparison.Ordinal))
            {
                _held.TrySetResult();
                await _released.Task.WaitAsync(cancellationToken);
            }

            return await inner.ListPageAsync(prefix, continuationToken, maxKeys, cancellationToken);
        }

        public void Dispose() => inner.Dispose();
    }
}
