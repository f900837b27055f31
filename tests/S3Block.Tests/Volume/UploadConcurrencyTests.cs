using S3Block.ObjectStore;
using S3Block.ObjectStore.Local;
using S3Block.TestKit;
using S3Block.TestKit.Volume;
using S3Block.Volume;
using Ublk.Server.Block;

namespace S3Block.Tests.Volume;

/// <summary>
/// A commit's CPU work on chunk images is limited to <see cref="S3Volume.ImageWorkers"/> at once, so that it never takes
/// every core from the requests in flight; its PUTs, which mostly wait for the network, must still overlap up to
/// <see cref="VolumeOptions.MaxUploadsInFlight"/>.
/// </summary>
public sealed class UploadConcurrencyTests : IDisposable
{
    private const int Uploads = 8;
    private readonly TempFolder _folder = new("upload-concurrency");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_commit_keeps_MaxUploadsInFlight_chunk_PUTs_in_flight_at_once_whatever_the_image_workers()
    {
        using var store = new PutBarrierStore(new LocalDirectoryObjectStore(Path.Combine(_folder.Path, "store")), Uploads);
        using var harness = new VolumeHarness(sizeBytes: 64L << 20, chunkSize: 1 << 20, store: store);
        var options = VolumeHarness.ManualCommits;
        options.MaxUploadsInFlight = Uploads;
        await using var volume = await harness.OpenAsync(options);
        var data = new byte[4096];
        for (var chunk = 0; chunk < 2 * Uploads; chunk++)
        {
            Random.Shared.NextBytes(data);
            await volume.WriteAsync((long)chunk << 20, data, WriteFlags.None, Ct);
        }

        // The first Uploads chunk PUTs wait until all of them are in flight together (or 10 s pass): a commit that held
        // an image slot across its PUT would get only ImageWorkers there and time out.
        Assert.True(await volume.CommitOnceAsync(Ct));

        Assert.Equal(Uploads, store.MostInFlight);
        Assert.Equal(0, store.TimedOut);
        Assert.Equal(2 * Uploads, volume.GetStatistics().ChunksUploaded);
    }

    public void Dispose() => _folder.Dispose();

    /// <summary>Holds the first <c>width</c> chunk PUTs until all of them are in flight at once (at most 10 s each).</summary>
    private sealed class PutBarrierStore(IObjectStore inner, int width) : DelegatingObjectStore(inner)
    {
        private readonly Lock _lock = new();
        private readonly TaskCompletionSource _full = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _inFlight;
        private int _arrived;

        public int MostInFlight { get; private set; }

        public int TimedOut { get; private set; }

        public override async Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, CancellationToken cancellationToken)
        {
            if (!key.Contains("/chunks/", StringComparison.Ordinal))
            {
                return await Inner.PutAsync(key, content, condition, cancellationToken);
            }

            Task full;
            lock (_lock)
            {
                // One round only: the first `width` PUTs wait for each other, later ones pass (a second barrier could
                // open early with stragglers of the first round and then time out).
                _inFlight++;
                _arrived++;
                MostInFlight = Math.Max(MostInFlight, _inFlight);
                full = _arrived <= width ? _full.Task : Task.CompletedTask;
                if (_arrived == width)
                {
                    _full.SetResult();
                }
            }

            try
            {
                await full.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            }
            catch (TimeoutException)
            {
                lock (_lock)
                {
                    TimedOut++;
                }
            }

            lock (_lock)
            {
                _inFlight--;
            }

            return await Inner.PutAsync(key, content, condition, cancellationToken);
        }
    }
}
