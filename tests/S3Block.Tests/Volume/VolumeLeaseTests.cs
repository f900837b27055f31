using S3Block.ObjectStore;
using S3Block.TestKit.Volume;
using S3Block.Volume;

namespace S3Block.Tests.Volume;

public sealed class VolumeLeaseTests : IDisposable
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly VolumeHarness _harness = new();
    private readonly VolumeKeys _keys = new("vol");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task A_renewal_whose_answer_was_lost_is_not_taken_for_a_takeover()
    {
        var lease = await VolumeLease.AcquireAsync(_harness.Store, _keys, Guid.NewGuid(), Ttl, 0, false, TimeProvider.System, Ct);
        _harness.Store.LoseAnswerOfNextPutTo = _keys.Lease;

        // The renewal lands in S3 but we never hear so (S3 went away mid-request) ...
        await Assert.ThrowsAsync<ObjectStoreException>(() => lease.RenewAsync(Ttl, Ct));
        await Task.Delay(5, Ct); // the next renewal writes a different expiry

        // ... so the next one finds an ETag it does not know: still our record, so it renews on top of it.
        await lease.RenewAsync(Ttl, Ct);

        var stored = await VolumeLease.ReadAsync(_harness.Store, _keys, Ct);
        Assert.Equal(lease.Record, stored);
    }

    [Fact]
    public async Task A_real_takeover_still_fences_the_old_holder()
    {
        var lease = await VolumeLease.AcquireAsync(_harness.Store, _keys, Guid.NewGuid(), Ttl, 0, false, TimeProvider.System, Ct);
        _harness.Store.LoseAnswerOfNextPutTo = _keys.Lease;
        await Assert.ThrowsAsync<ObjectStoreException>(() => lease.RenewAsync(Ttl, Ct));

        var successor = await VolumeLease.AcquireAsync(_harness.Store, _keys, Guid.NewGuid(), Ttl, 0, true, TimeProvider.System, Ct);

        await Assert.ThrowsAsync<VolumeFencedException>(() => lease.RenewAsync(Ttl, Ct));
        Assert.Equal(lease.Epoch + 1, successor.Epoch);
    }
}
