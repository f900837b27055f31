using S3Block.ObjectStore;
using S3Block.ObjectStore.Local;
using S3Block.TestKit;
using S3Block.TestKit.Volume;
using Ublk.Server.Block;

namespace S3Block.Tests.Volume;

/// <summary>
/// Write-back yields to readers (issue 12, point 3): while a read waits for a chunk from S3, a commit starts no more
/// chunk PUTs than <see cref="S3Block.Volume.VolumeOptions.UploadsWhileReading"/>; the rest start when the read is served.
/// </summary>
public sealed class ReadsBeforeWriteBackTests : IDisposable
{
    private const int Chunk = 1 << 20;
    private readonly TempFolder _folder = new("reads-first");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task While_a_read_waits_for_S3_a_commit_runs_one_chunk_PUT_and_the_others_start_once_it_is_served()
    {
        using var store = new GatedStore(new LocalDirectoryObjectStore(Path.Combine(_folder.Path, "store")));
        using var harness = new VolumeHarness(sizeBytes: 64L << 20, chunkSize: Chunk, store: store);
        var options = VolumeHarness.ManualCommits;
        options.MaxUploadsInFlight = 8;
        options.UploadsWhileReading = 1;
        await using var volume = await harness.OpenAsync(options);
        var committed = new byte[4096];
        Random.Shared.NextBytes(committed);
        await volume.WriteAsync(0, committed, WriteFlags.None, Ct);
        Assert.True(await volume.CommitOnceAsync(Ct));

        // A read of chunk 0 (no local cache here: it is a GET), held in the store.
        store.HoldGets = true;
        var read = new byte[4096];
        var reading = volume.ReadAsync(0, read, Ct).AsTask();
        await store.GetArrived.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        // Eight dirty chunks, committed while the read waits.
        store.HoldPuts = true;
        for (var chunk = 1; chunk <= 8; chunk++)
        {
            await volume.WriteAsync((long)chunk * Chunk, new byte[4096].Select(_ => (byte)chunk).ToArray(), WriteFlags.None, Ct);
        }

        var committing = volume.CommitOnceAsync(Ct);
        await store.FirstPutArrived.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await Task.Delay(300, Ct); // time for any PUT the read should hold back to arrive
        Assert.Equal(1, store.PutsArrived);

        store.ReleaseGets.SetResult();
        await reading.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(committed, read);

        // The others start once the read is served and the quiet period after it is over (1 s), while the first is
        // still held: they run together again.
        await WaitUntilAsync(() => store.PutsArrived == 8);
        store.ReleasePuts.SetResult();
        Assert.True(await committing.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(7, volume.GetStatistics().UploadsYieldedToReads);
    }

    public void Dispose() => _folder.Dispose();

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(10, Ct);
        }
    }

    /// <summary>Holds chunk GETs and chunk PUTs when asked, and says when the first of each arrives.</summary>
    private sealed class GatedStore(IObjectStore inner) : DelegatingObjectStore(inner)
    {
        private int _putsArrived;

        public volatile bool HoldGets;
        public volatile bool HoldPuts;

        public TaskCompletionSource GetArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReleaseGets { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource FirstPutArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource ReleasePuts { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int PutsArrived => Volatile.Read(ref _putsArrived);

        public override async Task<ObjectContent> GetAsync(string key, ByteRange? range, CancellationToken cancellationToken)
        {
            if (HoldGets && IsChunk(key))
            {
                GetArrived.TrySetResult();
                await ReleaseGets.Task.WaitAsync(cancellationToken);
            }

            return await Inner.GetAsync(key, range, cancellationToken);
        }

        public override async Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, CancellationToken cancellationToken)
        {
            if (HoldPuts && IsChunk(key))
            {
                Interlocked.Increment(ref _putsArrived);
                FirstPutArrived.TrySetResult();
                await ReleasePuts.Task.WaitAsync(cancellationToken);
            }

            return await Inner.PutAsync(key, content, condition, cancellationToken);
        }

        private static bool IsChunk(string key) => key.Contains("/chunks/", StringComparison.Ordinal);
    }
}
