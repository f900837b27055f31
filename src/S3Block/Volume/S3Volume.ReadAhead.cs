namespace S3Block.Volume;

/// <summary>
/// Sequential read-ahead: a sequential read has the next <see cref="VolumeOptions.ReadAheadChunks"/> chunks after it
/// that are neither cached nor being fetched fetched into the cache, so the reader finds them there or joins their GET
/// in flight. Without it a sequential reader has only the chunks its own requests touch in flight (two for 1 MiB reads
/// at depth 8 over 4 MiB chunks), far from what S3 needs to reach its throughput.
/// </summary>
/// <remarks>
/// Read-ahead has slots of its own and never waits for one (no free slot: no read-ahead), so it never takes a foreground
/// fetch's slot; it tries once (one call into the store, whose own retries still apply), and a reader that joined it
/// waits no longer than its own <see cref="VolumeOptions.ReadTimeout"/> and fetches by itself if it fails
/// (<see cref="FetchAsync"/>). It shares the store's request limit (<c>Store:S3:MaxConcurrentRequests</c>) with
/// everything else. Off without a chunk cache: the images would be dropped before the reader came.
/// </remarks>
public sealed partial class S3Volume
{
    private readonly SequentialReadDetector _sequentialReads = new();
    private readonly SemaphoreSlim? _readAheadSlots; // null: read-ahead off
    private readonly int _readAheadChunks;
    private readonly Lazy<Task> _readAheadStop;
    private long _readAheadThrough = -1; // the last chunk a sequential read planned for (a hint; races only repeat checks)
    private long _readAheadFetches;
    private long _readAheadJoins;

    private void ReadAheadOf(long offset, int length)
    {
        if (_readAheadSlots is null || !_sequentialReads.Observe(offset, length))
        {
            return;
        }

        var last = (offset + length - 1) / _descriptor.ChunkSizeBytes;
        var end = Math.Min(last + _readAheadChunks, _descriptor.ChunkCount - 1);
        var from = last + 1;
        var through = Volatile.Read(ref _readAheadThrough);
        if (through >= from && through <= end)
        {
            from = through + 1; // an earlier read of this stream planned up to there
        }

        var chunk = from;
        try
        {
            while (chunk <= end && TryStartReadAhead(chunk))
            {
                chunk++;
            }
        }
        catch (ObjectDisposedException)
        {
            return; // a read racing the volume's close: read-ahead is best effort, the read itself goes on
        }

        if (chunk > from)
        {
            Volatile.Write(ref _readAheadThrough, chunk - 1);
        }
    }

    /// <summary>Starts a fetch of the chunk's committed image unless it is absent, cached or being fetched; false when
    /// no read-ahead slot is free.</summary>
    private bool TryStartReadAhead(long chunk)
    {
        ChunkVersion version;
        lock (_lock)
        {
            version = _map[chunk];
        }

        if (version.IsZero)
        {
            return true;
        }

        var key = _keys.Chunk(chunk, version);
        if (_fetches.ContainsKey((key, true)) || _fillsInFlight.ContainsKey(key) || _cache.Contains(key))
        {
            return true;
        }

        if (_stopping.IsCancellationRequested || !_readAheadSlots!.Wait(0))
        {
            return false;
        }

        // Off the caller's thread: the store client does work before its first await.
        var fetch = new PendingFetch(() => Task.Run(() => FetchOnceAsync(key, FetchKind.ReadAhead, DateTimeOffset.MinValue, _stopping.Token)), readAhead: true);
        if (!_fetches.TryAdd((key, true), fetch))
        {
            _readAheadSlots.Release(); // a reader started it meanwhile
            return true;
        }

        _ = ForgetWhenDoneAsync(key, fetch);
        return true;
    }

    private async Task ForgetWhenDoneAsync(string key, PendingFetch fetch)
    {
        try
        {
            await fetch.Task;
        }
        catch (Exception)
        {
            // Nobody waits for a read-ahead: a reader that needs the chunk fetches it itself.
        }
        finally
        {
            _fetches.TryRemove(KeyValuePair.Create((key, true), fetch));
        }
    }

    /// <summary>Waits until no read-ahead runs (they stop with <see cref="_stopping"/>); none starts afterwards. Every
    /// caller awaits the same wait, so a second close never disposes the slots under a read-ahead still running.</summary>
    private Task StopReadAheadAsync() => _readAheadStop.Value;

    /// <summary>Test seam: waits until no read-ahead is in flight (its image is in the cache by then, if it succeeded).</summary>
    internal async Task WaitForReadAheadForTestsAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (_readAheadSlots is { } slots && slots.CurrentCount < _readAheadChunks)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{_readAheadChunks - slots.CurrentCount} read-ahead slots still taken after 10 s");
            }

            await Task.Delay(5, cancellationToken);
        }
    }
}
