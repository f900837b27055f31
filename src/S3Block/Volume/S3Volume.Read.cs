using System.Collections.Concurrent;
using Ublk.Server.Block;
using S3Block.ObjectStore;

namespace S3Block.Volume;

public sealed partial class S3Volume
{
    private readonly ConcurrentDictionary<(string Key, bool ForReaders), PendingFetch> _fetches = new();
    private readonly ConcurrentDictionary<string, byte[]> _fillsInFlight = new(StringComparer.Ordinal); // fetched, not yet in the cache
    private long _chunkFetches;
    private long _bytesFetched;
    private long _cacheHits;

    public async ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        CheckRange(offset, destination.Length);
        ReadAheadOf(offset, destination.Length);
        var chunkSize = _descriptor.ChunkSizeBytes;
        var done = 0;
        while (done < destination.Length)
        {
            var at = offset + done;
            var chunk = at / chunkSize;
            var inChunk = (int)(at % chunkSize);
            var piece = Math.Min(chunkSize - inChunk, destination.Length - done);
            await ReadPieceAsync(chunk, inChunk, destination.Slice(done, piece), cancellationToken);
            done += piece;
        }
    }

    /// <summary>
    /// Reads part of one chunk: the newest dirty extents that cover it all together, else the committed data with every
    /// dirty extent applied, in sequence order.
    /// </summary>
    /// <remarks>
    /// The snapshot (committed version + dirty extents) is consistent because both change together under the lock.
    /// The uploader releases journal records only after replacing them by a newer committed version, so a read
    /// that finds its records released simply takes a new snapshot.
    /// </remarks>
    private async ValueTask ReadPieceAsync(long chunk, int offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            ChunkVersion version;
            DirtyExtent[] extents;
            lock (_lock)
            {
                version = _map[chunk];
                extents = _dirty.Snapshot(chunk);
            }

            try
            {
                var start = ExtentCoverage.NewestCoveringStart(extents, offset, destination.Length);
                if (start < 0)
                {
                    await ReadCommittedAsync(chunk, version, offset, destination, cancellationToken);
                }

                ApplyExtents(extents, Math.Max(start, 0), offset, destination.Span);
                return;
            }
            catch (Exception e) when (attempt < 5 && IsSnapshotStale(e))
            {
                // The records were committed and released (or the version deleted) meanwhile: take a new snapshot.
            }
        }
    }

    /// <summary>Copies committed chunk data: zeros for an absent chunk, else from the cache or the store.</summary>
    private async ValueTask ReadCommittedAsync(long chunk, ChunkVersion version, int offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (version.IsZero)
        {
            destination.Span.Clear();
            return;
        }

        var key = _keys.Chunk(chunk, version);
        if (await _cache.TryReadAsync(key, offset, destination, cancellationToken)
            || (_fillsInFlight.TryGetValue(key, out var filling) && CopyFrom(filling)))
        {
            Interlocked.Increment(ref _cacheHits);
            return;
        }

        var image = await FetchAsync(key, foreground: true, cancellationToken);
        CopyFrom(image);

        bool CopyFrom(byte[] image)
        {
            image.AsSpan(offset, destination.Length).CopyTo(destination.Span);
            return true;
        }
    }

    /// <summary>
    /// Fetches a whole chunk image once however many readers want it at the same moment, and caches it. Foreground
    /// (read) fetches use their own slots so they never wait behind write-back, and give up after
    /// <see cref="VolumeOptions.ReadTimeout"/>; background (upload) fetches retry for as long as it takes. A reader also
    /// joins a read-ahead of the key in flight, for no longer than its own deadline, and fetches by itself if that fails.
    /// </summary>
    private async Task<byte[]> FetchAsync(string key, bool foreground, CancellationToken cancellationToken)
    {
        var deadline = foreground ? _time.GetUtcNow() + _options.ReadTimeout : DateTimeOffset.MaxValue;
        var readAheadFailed = false;
        while (true)
        {
            // Shared by every caller of the same kind for the key, so it runs on the volume's lifetime token, not the
            // first caller's. Readers and the uploader never share one: a reader's deadline must not fail an upload.
            var own = new PendingFetch(
                () => FetchOnceAsync(key, foreground ? FetchKind.Read : FetchKind.WriteBack, deadline, _stopping.Token), readAhead: false);
            var fetch = readAheadFailed
                ? _fetches.AddOrUpdate((key, foreground), own, (_, found) => found.ReadAhead ? own : found) // never wait for one again
                : _fetches.GetOrAdd((key, foreground), own);
            try
            {
                if (!fetch.ReadAhead)
                {
                    return await fetch.Task.WaitAsync(cancellationToken);
                }

                Interlocked.Increment(ref _readAheadJoins);
                var left = deadline - _time.GetUtcNow();
                var wait = left <= TimeSpan.Zero ? TimeSpan.Zero : left > TimeSpan.FromDays(30) ? Timeout.InfiniteTimeSpan : left;
                return await fetch.Task.WaitAsync(wait, _time, cancellationToken);
            }
            catch (TimeoutException e) when (fetch.ReadAhead && !fetch.Task.IsCompleted)
            {
                throw new BlockIOException(BlockIOException.EIO, $"cannot read {key} from the store within {_options.ReadTimeout}", e);
            }
            catch (Exception) when (fetch.ReadAhead && !cancellationToken.IsCancellationRequested)
            {
                readAheadFailed = true; // it tried once; fetch on the reader's own terms, in the time left
            }
            finally
            {
                // A read-ahead's entry goes when it ends (ForgetWhenDoneAsync), not when a reader stops waiting for it.
                if (!fetch.ReadAhead)
                {
                    _fetches.TryRemove(KeyValuePair.Create((key, foreground), fetch));
                }
            }
        }
    }

    /// <summary>One GET of a chunk image into the cache, on the slots of its kind; retries store failures until
    /// <paramref name="deadline"/> (<see cref="DateTimeOffset.MinValue"/>: one try).</summary>
    /// <remarks>A reader (or a read-ahead a reader may join) gets the image as soon as the GET ends; the cache keeps it
    /// afterwards, on the same slot (so images waiting for the cache stay bounded by the slots): checksumming and
    /// writing 4 MiB to a disk busy with write-back took a good part of a cold read's latency.</remarks>
    private async Task<byte[]> FetchOnceAsync(string key, FetchKind kind, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        SemaphoreSlim? slots = kind switch
        {
            FetchKind.Read => _fetchSlots,
            FetchKind.ReadAhead => _readAheadSlots!,
            _ => _uploadSlots,
        };
        var forReaders = kind != FetchKind.WriteBack;
        if (forReaders)
        {
            _readerPriority.ReadStarted(); // from before its slot: waiting for one is waiting for S3 too
        }

        var slotTaken = kind == FetchKind.ReadAhead; // a read-ahead holds its slot from before it starts
        try
        {
            if (!slotTaken)
            {
                await slots.WaitAsync(cancellationToken);
                slotTaken = true;
            }

            var content = await RetryAsync(
                "GET", ct => _store.GetAsync(key, null, ct), deadline, retryPermanent: kind == FetchKind.WriteBack, cancellationToken);
            Interlocked.Increment(ref kind == FetchKind.ReadAhead ? ref _readAheadFetches : ref _chunkFetches);
            Interlocked.Add(ref _bytesFetched, content.Data.Length);
            // The GET's own array, not a copy: readers only copy out of it (here and in the upload's base read).
            if (kind == FetchKind.WriteBack)
            {
                await _cache.PutImmutableAsync(key, content.Data, cancellationToken);
            }
            else
            {
                _fillsInFlight[key] = content.Data;
                _ = FillCacheThenReleaseAsync(key, content.Data, slots);
                slots = null;
            }

            return content.Data;
        }
        catch (ObjectStoreException e) when (e.Kind != ObjectStoreErrorKind.NotFound)
        {
            throw new BlockIOException(BlockIOException.EIO, $"cannot read {key} from the store: {e.Message}", e);
        }
        finally
        {
            if (forReaders)
            {
                _readerPriority.ReadEnded();
            }

            if (slotTaken)
            {
                slots?.Release();
            }
        }
    }

    /// <summary>Puts a fetched image into the cache, then frees the fetch's slot; meanwhile reads find the image in
    /// <see cref="_fillsInFlight"/> (with the RAM tier on, in the cache at once too). Best effort: an image the cache did
    /// not keep is fetched again when next read.</summary>
    private async Task FillCacheThenReleaseAsync(string key, byte[] image, SemaphoreSlim slots)
    {
        try
        {
            await _cache.PutImmutableAsync(key, image, _stopping.Token);
        }
        catch (Exception)
        {
            // Closing, or the cache failed (its own counters tell): the image is in S3.
        }
        finally
        {
            _fillsInFlight.TryRemove(KeyValuePair.Create(key, image));
            slots.Release();
        }
    }

    /// <summary>Applies extents <paramref name="from"/>.. (sequence order) to a destination holding chunk bytes at <paramref name="offset"/>.</summary>
    private void ApplyExtents(DirtyExtent[] extents, int from, int offset, Span<byte> destination)
    {
        for (var i = from; i < extents.Length; i++)
        {
            var extent = extents[i];
            if (!extent.Overlaps(offset, destination.Length))
            {
                continue;
            }

            var start = Math.Max(offset, extent.OffsetInChunk);
            var end = Math.Min(offset + destination.Length, extent.End);
            var target = destination[(start - offset)..(end - offset)];
            if (extent.IsZero)
            {
                target.Clear();
            }
            else
            {
                _journal.ReadPayload(extent.Source, extent.PayloadOffset + (start - extent.OffsetInChunk), target);
            }
        }
    }

    private static bool IsSnapshotStale(Exception e) =>
        e is ArgumentException or ObjectDisposedException
        || e is ObjectStoreException { Kind: ObjectStoreErrorKind.NotFound };

    /// <summary>Who a chunk fetch is for: its slots, and how long it retries.</summary>
    private enum FetchKind
    {
        /// <summary>A read waits for it: up to <see cref="VolumeOptions.ReadTimeout"/>.</summary>
        Read,

        /// <summary>Ahead of a sequential reader: one try.</summary>
        ReadAhead,

        /// <summary>The base image of an upload: for as long as it takes.</summary>
        WriteBack,
    }

    /// <summary>One fetch of a chunk image, shared by every caller that wants it while it runs; started on first use.</summary>
    private sealed class PendingFetch(Func<Task<byte[]>> start, bool readAhead)
    {
        private readonly Lazy<Task<byte[]>> _task = new(start);

        public Task<byte[]> Task => _task.Value;

        /// <summary>Started by read-ahead, which tries once: a reader that joined it retries on its own if it fails.</summary>
        public bool ReadAhead => readAhead;
    }
}
