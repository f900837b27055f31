using S3Block.TestKit;
using S3Block.TestKit.Volume;
using S3Block.Volume;

namespace S3Block.Tests.Volume;

/// <summary>
/// <see cref="S3Volume.ContinuesThisNodesWrites"/>: whether a device this node served before still shows the volume's
/// data (the daemon re-attaches such a device only then; issue 10, point 1).
/// </summary>
public sealed class ContinuationTests : IDisposable
{
    private readonly TempFolder _folder = new("continuation");
    private readonly VolumeHarness _harness = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Only_an_open_after_this_nodes_own_writes_continues_them()
    {
        await using (var first = await _harness.OpenAsync())
        {
            Assert.True(first.ContinuesThisNodesWrites); // a new volume: nobody wrote it
            await first.WriteAsync(0, new byte[4096], Ublk.Server.Block.WriteFlags.None, Ct);
            await first.FlushAsync(Ct);
            await first.CrashForTestsAsync(); // a daemon killed: its device stays quiesced
        }

        await using (var restarted = await _harness.OpenAsync())
        {
            Assert.True(restarted.ContinuesThisNodesWrites);
            await restarted.CloseAsync(drain: true, progress: null, Ct);
        }

        var otherNode = Guid.NewGuid();
        await using (var other = await OpenAsync(otherNode, "other"))
        {
            Assert.False(other.ContinuesThisNodesWrites); // the first node's devices show data this node never served
            await other.WriteAsync(0, new byte[4096], Ublk.Server.Block.WriteFlags.None, Ct);
            await other.CloseAsync(drain: true, progress: null, Ct);
        }

        await using (var back = await _harness.OpenAsync())
        {
            Assert.False(back.ContinuesThisNodesWrites); // the other node wrote since: this node's old device is stale
            await back.CloseAsync(drain: true, progress: null, Ct);
        }

        await using var again = await _harness.OpenAsync();
        Assert.True(again.ContinuesThisNodesWrites);
        await again.CloseAsync(drain: true, progress: null, Ct);
    }

    public void Dispose()
    {
        _harness.Dispose();
        _folder.Dispose();
    }

    private Task<S3Volume> OpenAsync(Guid node, string journal) =>
        S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = _harness.Store,
            VolumeName = _harness.Descriptor.Name,
            JournalDirectory = Path.Combine(_folder.Path, journal),
            Options = VolumeHarness.ManualCommits,
            Node = node,
        }, Ct);
}
