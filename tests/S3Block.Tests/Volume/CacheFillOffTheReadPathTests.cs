using System.Collections.Concurrent;
using Ublk.Server.Block;
using S3Block.TestKit.Volume;
using S3Block.Volume;

namespace S3Block.Tests.Volume;

/// <summary>
/// A cold read is answered as soon as its GET ends: the cache keeps the image afterwards, off the reader's path (on a
/// disk busy with write-back, checksumming and writing 4 MiB took a good part of a cold read's latency); closing the
/// volume waits for such fills, so none outlives it.
/// </summary>
public sealed class CacheFillOffTheReadPathTests : IDisposable
{
    private readonly VolumeHarness _harness = new(sizeBytes: 1 << 20, chunkSize: 64 * 1024);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(true)]  // a RAM tier: the cache holds the image at once
    [InlineData(false)] // no RAM tier: only once the disk write ends; meanwhile the volume serves its own copy
    public async Task A_cold_read_returns_while_the_cache_fill_is_held_and_close_waits_for_the_fill(bool keepsAtOnce)
    {
        var data = new byte[64 * 1024];
        new Random(5).NextBytes(data);
        await using (var writer = await _harness.OpenAsync())
        {
            await writer.WriteAsync(0, data, WriteFlags.None, Ct);
            Assert.True(await writer.CommitOnceAsync(Ct));
        }

        var cache = new HeldFillCache(keepsAtOnce);
        var volume = await S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = _harness.Store,
            VolumeName = _harness.Descriptor.Name,
            JournalDirectory = _harness.JournalDirectory,
            Cache = cache,
            Options = VolumeHarness.ManualCommits,
            Node = _harness.Node,
        }, Ct);

        var read = new byte[4096];
        await volume.ReadAsync(8192, read, Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct); // the fill is still held
        Assert.Equal(data.AsSpan(8192, 4096).ToArray(), read);
        Assert.Equal(1, cache.FillsStarted);

        await volume.ReadAsync(0, read, Ct); // no second GET: the image is in the cache, or still being put there
        Assert.Equal(data.AsSpan(0, 4096).ToArray(), read);
        Assert.Equal(1, volume.GetStatistics().ChunkFetches);

        var closing = volume.DisposeAsync().AsTask();
        await Task.Delay(200, Ct);
        Assert.False(closing.IsCompleted); // a fill still runs

        cache.ReleaseFills.SetResult();
        await closing.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(1, cache.FillsFinished);
    }

    public void Dispose() => _harness.Dispose();

    /// <summary>Keeps images in a dictionary, at once (a RAM tier) or only when the held fill is released (a slow disk tier).</summary>
    private sealed class HeldFillCache(bool keepsAtOnce) : ICleanChunkCache
    {
        private readonly ConcurrentDictionary<string, byte[]> _images = new();
        private int _fillsStarted;
        private int _fillsFinished;

        public TaskCompletionSource ReleaseFills { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int FillsStarted => Volatile.Read(ref _fillsStarted);

        public int FillsFinished => Volatile.Read(ref _fillsFinished);

        public ValueTask<bool> TryReadAsync(string key, int offset, Memory<byte> destination, CancellationToken cancellationToken)
        {
            if (!_images.TryGetValue(key, out var image))
            {
                return ValueTask.FromResult(false);
            }

            image.AsSpan(offset, destination.Length).CopyTo(destination.Span);
            return ValueTask.FromResult(true);
        }

        public ValueTask PutAsync(string key, ReadOnlyMemory<byte> image, CancellationToken cancellationToken)
        {
            _images[key] = image.ToArray();
            return ValueTask.CompletedTask;
        }

        public async ValueTask PutImmutableAsync(string key, byte[] image, CancellationToken cancellationToken)
        {
            if (keepsAtOnce)
            {
                _images[key] = image;
            }

            Interlocked.Increment(ref _fillsStarted);
            await ReleaseFills.Task; // not cancellable: the close must wait for it
            _images[key] = image;
            Interlocked.Increment(ref _fillsFinished);
        }

        public bool Contains(string key) => _images.ContainsKey(key);
    }
}
