using System.Collections.Concurrent;
using S3Block.Cache.Chunks;
using S3Block.ObjectStore;
using S3Block.ObjectStore.Local;
using S3Block.TestKit;
using S3Block.TestKit.Volume;
using S3Block.Volume;
using Ublk.Server.Block;

namespace S3Block.Tests.Volume;

/// <summary>
/// Sequential read-ahead (<see cref="VolumeOptions.ReadAheadChunks"/>): a sequential read has the next chunks fetched
/// into the cache; random reads fetch nothing ahead; read-ahead never takes a foreground read's
/// slot, a reader joins its GET in flight instead of fetching again, and falls back to a fetch of its own when it fails.
/// </summary>
public sealed class ReadAheadTests : IDisposable
{
    private const int ChunkSize = 64 * 1024;
    private const int Chunks = 16;
    private readonly TempFolder _folder = new("read-ahead");
    private readonly GatedGetStore _store;
    private readonly VolumeHarness _harness;
    private readonly byte[] _data = new byte[Chunks * ChunkSize];

    public ReadAheadTests()
    {
        _store = new GatedGetStore(new LocalDirectoryObjectStore(Path.Combine(_folder.Path, "store")));
        _harness = new VolumeHarness(sizeBytes: _data.Length, chunkSize: ChunkSize, store: _store);
        new Random(12).NextBytes(_data);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_sequential_read_fetches_the_next_chunks_ahead_and_they_are_read_from_the_cache()
    {
        await WriteAllAndDrainAsync();
        using var cache = OpenCache();
        await using var volume = await OpenAsync(cache, readAhead: 3);

        await AssertReadAsync(volume, 0, ChunkSize); // the first read: nothing to continue
        await volume.WaitForReadAheadForTestsAsync(Ct);
        Assert.Equal(new long[] { 0 }, _store.ChunkGets);

        await AssertReadAsync(volume, ChunkSize, ChunkSize); // continues it into chunk 1: chunks 2, 3 and 4 ahead
        await volume.WaitForReadAheadForTestsAsync(Ct);
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, _store.ChunkGets.Order());
        Assert.Equal(3, volume.GetStatistics().ReadAheadFetches);

        await AssertReadAsync(volume, 2L * ChunkSize, 3 * ChunkSize);
        var statistics = volume.GetStatistics();
        Assert.Equal(2, statistics.ChunkFetches); // chunks 0 and 1: the reader waited for no other GET
        Assert.Equal(3, statistics.CacheHits);
    }

    [Fact]
    public async Task Random_reads_fetch_nothing_ahead()
    {
        await WriteAllAndDrainAsync();
        using var cache = OpenCache();
        await using var volume = await OpenAsync(cache, readAhead: 4);
        // One 4 KiB read at the start of every chunk, in a shuffled order: none starts where another ended.
        var order = Enumerable.Range(0, Chunks).ToArray();
        new Random(5).Shuffle(order);
        foreach (var chunk in order)
        {
            await AssertReadAsync(volume, (long)chunk * ChunkSize, 4096);
        }

        await volume.WaitForReadAheadForTestsAsync(Ct);
        Assert.Equal(0, volume.GetStatistics().ReadAheadFetches);
        Assert.Equal(Chunks, _store.ChunkGets.Length);
    }

    [Fact]
    public async Task Read_ahead_is_off_at_zero()
    {
        await WriteAllAndDrainAsync();
        using var cache = OpenCache();
        await using var volume = await OpenAsync(cache, readAhead: 0);

        await StartStreamAsync(volume);
        await AssertReadAsync(volume, 2L * ChunkSize, _data.Length - (2 * ChunkSize));

        Assert.Equal(0, volume.GetStatistics().ReadAheadFetches);
        Assert.Equal(Enumerable.Range(0, Chunks).Select(c => (long)c), _store.ChunkGets.Order());
    }

    [Fact]
    public async Task Read_ahead_is_off_without_a_chunk_cache()
    {
        await WriteAllAndDrainAsync();
        var options = Options(readAhead: 4);
        await using var volume = await _harness.OpenAsync(options); // no cache: what it fetched ahead would be lost

        await StartStreamAsync(volume);
        await AssertReadAsync(volume, 2L * ChunkSize, _data.Length - (2 * ChunkSize));

        Assert.Equal(0, volume.GetStatistics().ReadAheadFetches);
        Assert.Equal(Chunks, _store.ChunkGets.Length);
    }

    [Fact]
    public async Task A_stuck_read_ahead_delays_no_other_read_and_a_reader_of_its_chunk_joins_its_GET()
    {
        await WriteAllAndDrainAsync();
        using var cache = OpenCache();
        var options = Options(readAhead: 2);
        options.MaxFetchesInFlight = 1; // read-ahead on these slots would leave none for the reads below
        await using var volume = await OpenAsync(cache, options);
        _store.Hold(2);
        _store.Hold(3);

        await StartStreamAsync(volume); // into chunk 1: chunks 2 and 3 ahead, both stuck
        await _store.WaitForGetsAsync(4);

        // Foreground reads of other chunks go through, a sequential one included (no read-ahead slot free: none starts).
        await AssertReadAsync(volume, 9L * ChunkSize, 4096);
        await AssertReadAsync(volume, 9L * ChunkSize + 4096, ChunkSize);
        Assert.Equal(0, volume.GetStatistics().ReadAheadFetches);
        Assert.DoesNotContain(11L, _store.ChunkGets);
        Assert.DoesNotContain(12L, _store.ChunkGets);

        var reader = AssertReadAsync(volume, 2L * ChunkSize, ChunkSize);
        await WaitForJoinsAsync(volume, 1); // the reader waits for the read-ahead's GET instead of starting its own
        Assert.False(reader.IsCompleted);
        _store.Release(2);
        _store.Release(3);
        await reader;
        await volume.WaitForReadAheadForTestsAsync(Ct);

        Assert.Equal(1, _store.ChunkGets.Count(c => c == 2));
        Assert.Equal(2, volume.GetStatistics().ReadAheadFetches);
    }

    [Fact]
    public async Task A_reader_that_joins_a_read_ahead_gets_the_dirty_data_on_top_of_it()
    {
        await WriteAllAndDrainAsync();
        using var cache = OpenCache();
        await using var volume = await OpenAsync(cache, readAhead: 2);
        _store.Hold(2);

        await StartStreamAsync(volume); // chunks 2 (stuck) and 3 ahead
        await _store.WaitForGetsAsync(4);
        var written = new byte[4096];
        new Random(7).NextBytes(written);
        var at = (2 * ChunkSize) + 8192;
        await volume.WriteAsync(at, written, WriteFlags.None, Ct); // dirty, not committed: the chunk's version is unchanged
        written.CopyTo(_data, at);

        var reader = AssertReadAsync(volume, 2L * ChunkSize, ChunkSize);
        await WaitForJoinsAsync(volume, 1);
        _store.Release(2);
        await reader;

        Assert.Equal(1, _store.ChunkGets.Count(c => c == 2));
    }

    [Fact]
    public async Task A_reader_whose_chunk_failed_to_read_ahead_fetches_it_itself()
    {
        await WriteAllAndDrainAsync();
        using var cache = OpenCache();
        await using var volume = await OpenAsync(cache, readAhead: 1);
        _store.Hold(2);

        await StartStreamAsync(volume); // into chunk 1: chunk 2 ahead, stuck
        await _store.WaitForGetsAsync(3);
        var reader = AssertReadAsync(volume, 2L * ChunkSize, ChunkSize);
        await WaitForJoinsAsync(volume, 1);
        _store.Release(2, fail: true); // one try: the read-ahead gives up at once

        await reader;
        await volume.WaitForReadAheadForTestsAsync(Ct); // and gave its slot back
        Assert.Equal(2, _store.ChunkGets.Count(c => c == 2));
        Assert.Equal(0, volume.GetStatistics().ReadAheadFetches);
    }

    [Fact]
    public async Task A_reader_that_joins_a_stuck_read_ahead_fails_with_EIO_after_its_own_ReadTimeout()
    {
        await WriteAllAndDrainAsync();
        using var cache = OpenCache();
        var options = Options(readAhead: 1);
        options.ReadTimeout = TimeSpan.FromSeconds(1);
        await using var volume = await OpenAsync(cache, options);
        _store.Hold(2); // never released: the read-ahead's one try hangs

        await StartStreamAsync(volume);
        await _store.WaitForGetsAsync(3);
        var buffer = new byte[ChunkSize];
        var read = volume.ReadAsync(2L * ChunkSize, buffer, Ct).AsTask();

        var error = await Assert.ThrowsAsync<BlockIOException>(() => read.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal(BlockIOException.EIO, error.Errno);
        Assert.Equal(1, volume.GetStatistics().ReadAheadJoins);
    }

    [Fact]
    public async Task Closing_waits_for_the_read_aheads_in_flight()
    {
        await WriteAllAndDrainAsync();
        using var cache = OpenCache();
        var volume = await OpenAsync(cache, readAhead: 2);
        _store.Hold(2, ignoreCancellation: true);
        _store.Hold(3, ignoreCancellation: true);
        await StartStreamAsync(volume);
        await _store.WaitForGetsAsync(4);

        var close = volume.CloseAsync(drain: false, progress: null, Ct);
        var again = volume.CloseAsync(drain: false, progress: null, Ct); // a second close waits as long, disposes nothing early
        await Task.Delay(300, Ct);
        Assert.False(close.IsCompleted, "closed while read-aheads were still running");
        Assert.False(again.IsCompleted, "the second close returned while read-aheads were still running");
        _store.Release(2);
        _store.Release(3);

        await Task.WhenAll(close, again).WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }

    [Fact]
    public void The_detector_counts_a_read_as_sequential_when_it_starts_where_a_recent_read_ended()
    {
        var detector = new SequentialReadDetector();

        Assert.False(detector.Observe(0, 4096)); // nothing before it, offset 0 included
        Assert.False(detector.Observe(8192, 4096));
        Assert.True(detector.Observe(4096, 4096)); // out of order, as concurrent requests arrive
        Assert.True(detector.Observe(12288, 4096));
        Assert.False(detector.Observe(1 << 20, 4096));

        for (var i = 0; i < SequentialReadDetector.Window; i++)
        {
            detector.Observe((2L << 20) + (i * 65536L), 4096); // unrelated reads push the stream's ends out
        }

        Assert.False(detector.Observe(16384, 4096));
    }

    public void Dispose()
    {
        _harness.Dispose();
        _folder.Dispose();
    }

    private async Task WriteAllAndDrainAsync()
    {
        await using var writer = await _harness.OpenAsync();
        for (var chunk = 0; chunk < Chunks; chunk++)
        {
            await writer.WriteAsync((long)chunk * ChunkSize, _data.AsMemory(chunk * ChunkSize, ChunkSize), WriteFlags.None, Ct);
        }

        await writer.CloseAsync(drain: true, progress: null, Ct);
        _store.ClearLog();
    }

    /// <summary>Reads chunk 0, then chunk 1: the second read continues the first into a new chunk.</summary>
    private async Task StartStreamAsync(S3Volume volume)
    {
        await AssertReadAsync(volume, 0, ChunkSize);
        await AssertReadAsync(volume, ChunkSize, ChunkSize);
    }

    private static async Task WaitForJoinsAsync(S3Volume volume, long joins)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (volume.GetStatistics().ReadAheadJoins < joins)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{volume.GetStatistics().ReadAheadJoins} reads joined a read-ahead after 10 s, {joins} expected");
            await Task.Delay(5, Ct);
        }
    }

    private async Task AssertReadAsync(S3Volume volume, long offset, int length)
    {
        var buffer = new byte[length];
        await volume.ReadAsync(offset, buffer, Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.True(_data.AsSpan((int)offset, length).SequenceEqual(buffer), $"bytes differ in the read at {offset}+{length}");
    }

    private static VolumeOptions Options(int readAhead)
    {
        var options = VolumeHarness.ManualCommits;
        options.ReadAheadChunks = readAhead;
        options.ReadTimeout = TimeSpan.FromSeconds(30); // the harness's 2 s could run out while a test holds a GET on a busy machine
        return options;
    }

    private ChunkCache OpenCache() => ChunkCache.Open(new ChunkCacheOptions
    {
        Folder = Path.Combine(_folder.Path, "cache"),
        DiskBudgetBytes = 8 << 20,
        MemoryBudgetBytes = 4 << 20,
    });

    private Task<S3Volume> OpenAsync(ChunkCache cache, int readAhead) => OpenAsync(cache, Options(readAhead));

    private Task<S3Volume> OpenAsync(ChunkCache cache, VolumeOptions options) => S3Volume.OpenAsync(new S3Volume.OpenContext
    {
        Store = _harness.Store,
        VolumeName = _harness.Descriptor.Name,
        JournalDirectory = _harness.JournalDirectory,
        Cache = new ChunkCacheAdapter(cache),
        Options = options,
        Node = _harness.Node,
    }, Ct);

    /// <summary>Logs the chunk of every chunk GET, and holds the GETs of chosen chunks until released (or cancelled, unless told to ignore it).</summary>
    private sealed class GatedGetStore(IObjectStore inner) : DelegatingObjectStore(inner)
    {
        private readonly ConcurrentQueue<long> _chunkGets = new();
        private readonly ConcurrentDictionary<long, (TaskCompletionSource<bool> Gate, bool IgnoreCancellation)> _gates = new();
    

        public long[] ChunkGets => [.. _chunkGets];

        public void ClearLog() => _chunkGets.Clear();

        public void Hold(long chunk, bool ignoreCancellation = false) =>
            _gates[chunk] = (new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously), ignoreCancellation);

        /// <summary>Lets the held GETs of <paramref name="chunk"/> go on (or fail as a transient error); later ones pass.</summary>
        public void Release(long chunk, bool fail = false)
        {
            if (_gates.TryRemove(chunk, out var gate))
            {
                gate.Gate.SetResult(!fail);
            }
        }

        public async Task WaitForGetsAsync(int count)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (_chunkGets.Count < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"{_chunkGets.Count} chunk GETs after 10 s, {count} expected");
                await Task.Delay(10);
            }
        }

        public override async Task<ObjectContent> GetAsync(string key, ByteRange? range, CancellationToken cancellationToken)
        {
            var parts = key.Split('/');
            if (parts.Length > 2 && parts[1] == "chunks")
            {
                var chunk = Convert.ToInt64(parts[2], 16);
                _chunkGets.Enqueue(chunk);
                if (_gates.TryGetValue(chunk, out var gate))
                {
                    var answer = await gate.Gate.Task.WaitAsync(gate.IgnoreCancellation ? CancellationToken.None : cancellationToken);
                    if (!answer)
                    {
                        throw new ObjectStoreException(ObjectStoreErrorKind.Transient, "GetObject", key, "injected failure");
                    }
                }
            }

            return await Inner.GetAsync(key, range, cancellationToken);
        }
    }
}
