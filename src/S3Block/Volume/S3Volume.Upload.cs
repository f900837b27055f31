using S3Block.Cache.Chunks;
using S3Block.ObjectStore;

namespace S3Block.Volume;

public sealed partial class S3Volume
{
    private long _commitsPublished;
    private long _chunksUploaded;
    private long _bytesUploaded;
    private long _chunksZeroed;
    private long _storeRetries;

    /// <summary>Test seam: called after every chunk of a commit is uploaded and before the commit record is published.</summary>
    internal Func<long, Task>? BeforePublishForTests { get; set; }

    private async Task RunUploadLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await _uploadWanted.WaitAsync(_options.CommitInterval, cancellationToken);
            try
            {
                while (await CommitOnceAsync(cancellationToken) && OverThreshold())
                {
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (VolumeFencedException e)
            {
                Fault(e);
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Store errors are retried inside, so this is the journal failing (without it nothing can be uploaded)
                // or a bug: stop writing rather than guess what S3 holds.
                Fault(e);
                return;
            }

            await DeleteGarbageAsync(cancellationToken);
        }
    }

    private bool OverThreshold()
    {
        lock (_lock)
        {
            return _dirty.DirtyBytes >= _options.CommitThresholdBytes;
        }
    }

    /// <summary>
    /// One write-back step (docs/volume-format.md, "Writing back"): cut at S, build each dirty chunk's image as of S,
    /// upload, publish commit N, then apply it and release the journal through S.
    /// </summary>
    /// <returns>True when a commit was published.</returns>
    internal async Task<bool> CommitOnceAsync(CancellationToken cancellationToken)
    {
        long cutAt;
        List<(long Chunk, DirtyExtent[] Extents)> cut;
        List<ChunkVersion> bases;
        lock (_lock)
        {
            if (_fault is not null)
            {
                return false; // Fenced or broken: another writer may own the volume now, so publish nothing more.
            }

            cutAt = _indexed.CompletedThrough;
            if (cutAt <= _committedSequence)
            {
                return false;
            }

            cut = _dirty.CutAt(cutAt);
            bases = cut.Select(c => _map[c.Chunk]).ToList();
        }

        // S3 must never get ahead of the local journal: a commit only covers records that survive a power cut.
        await _journal.WaitDurableAsync(cutAt, cancellationToken);
        var commitNumber = _lastCommitNumber + 1;
        var version = new ChunkVersion(_lease.Epoch, commitNumber);
        var changes = new ChunkChange?[cut.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, cut.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.MaxUploadsInFlight, CancellationToken = cancellationToken },
            async (i, ct) => changes[i] = await UploadChunkAsync(cut[i].Chunk, bases[i], cut[i].Extents, version, ct));

        var record = new CommitRecord
        {
            Kind = CommitKind.Commit,
            VolumeId = _descriptor.VolumeId,
            CommitNumber = commitNumber,
            Epoch = _lease.Epoch,
            WriterNode = _node,
            JournalSequence = cutAt,
            CreatedAt = _time.GetUtcNow(),
            Changes = [.. changes.Where(c => c is not null).Select(c => c!.Value)],
        };
        if (BeforePublishForTests is { } hook)
        {
            await hook(commitNumber);
        }

        await PublishAsync(_keys.Commit(commitNumber), record, cancellationToken);
        Apply(record, cut);
        _journal.ReleaseThrough(cutAt);
        await MaintainAfterCommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Re-checks the CRC of every journal record an upload is about to copy from: a record damaged on the local disk
    /// (or in memory) since it was written must never reach S3 as data. Throws, which faults the volume.
    /// </summary>
    private void VerifyJournalRecords(DirtyExtent[] extents, int from)
    {
        for (var i = from; i < extents.Length; i++)
        {
            var source = extents[i].Source;
            if (extents[i].IsZero || (i > from && extents[i - 1].Source == source))
            {
                continue;
            }

            if (!_journal.VerifyRecord(source))
            {
                throw new VolumeException(
                    $"Journal record {source.Sequence} of volume {_descriptor.Name} failed its CRC check before upload (local disk "
                    + "corruption): nothing more is uploaded, so S3 keeps the last good state.");
            }
        }
    }

    /// <summary>Builds a chunk's image as of the cut and uploads it; null when the chunk does not change.</summary>
    /// <remarks>The CPU-heavy steps hold one of the <see cref="ImageWorkers"/> slots; the base fetch and the PUT do not.</remarks>
    private async Task<ChunkChange?> UploadChunkAsync(long chunk, ChunkVersion baseVersion, DirtyExtent[] extents, ChunkVersion version, CancellationToken cancellationToken)
    {
        var length = _descriptor.ChunkLength(chunk);
        var buffer = ChunkBufferPool.Rent(length);
        try
        {
            var image = buffer.AsMemory(0, length);
            var start = ExtentCoverage.NewestCoveringStart(extents, 0, length);
            if (start < 0)
            {
                await ReadBaseForUploadAsync(chunk, baseVersion, image, cancellationToken);
            }

            bool allZero;
            await _imageSlots.WaitAsync(cancellationToken);
            try
            {
                VerifyJournalRecords(extents, Math.Max(start, 0));
                ApplyExtents(extents, Math.Max(start, 0), 0, image.Span);
                allZero = !image.Span.ContainsAnyExcept((byte)0);
            }
            finally
            {
                _imageSlots.Release();
            }

            if (allZero)
            {
                // All zeros: no object at all; reads of it cost nothing.
                Interlocked.Increment(ref _chunksZeroed);
                return baseVersion.IsZero ? null : new ChunkChange(chunk, ChunkVersion.Zero);
            }

            var key = _keys.Chunk(chunk, version);
            await _readerPriority.PutStartingAsync(cancellationToken);
            try
            {
                await RetryAsync("PUT", ct => _store.PutAsync(key, image, PutCondition.None, ct), DateTimeOffset.MaxValue, retryPermanent: true, cancellationToken);
            }
            finally
            {
                _readerPriority.PutEnded();
            }

            Interlocked.Increment(ref _chunksUploaded);
            Interlocked.Add(ref _bytesUploaded, length);
            await _imageSlots.WaitAsync(cancellationToken);
            try
            {
                await _cache.PutAsync(key, image, cancellationToken);
            }
            finally
            {
                _imageSlots.Release();
            }

            return new ChunkChange(chunk, version);
        }
        finally
        {
            ChunkBufferPool.Return(buffer);
        }
    }

    private async Task ReadBaseForUploadAsync(long chunk, ChunkVersion baseVersion, Memory<byte> image, CancellationToken cancellationToken)
    {
        if (baseVersion.IsZero)
        {
            image.Span.Clear();
            return;
        }

        var key = _keys.Chunk(chunk, baseVersion);
        if (!await _cache.TryReadAsync(key, 0, image, cancellationToken))
        {
            var data = await FetchAsync(key, foreground: false, cancellationToken);
            data.AsSpan(0, image.Length).CopyTo(image.Span);
        }
    }

    /// <summary>
    /// Publishes a commit record with If-None-Match: *, retrying store failures for as long as it takes. Losing the race
    /// means another writer owns the volume now, unless the lost race is our own earlier try whose answer got lost.
    /// </summary>
    /// <remarks>
    /// A "lost race" is checked by reading the key back. Absent, nobody won: the store reports every 500 to a
    /// conditional PUT as a lost race because RadosGW's real losers get one (s3-servers.md, quirk 4), but a 500 can
    /// also be a plain failure. That is retried, as long as the lease is still ours: a writer paused while a new owner
    /// moved on (and deleted old commit records) must not fill in a number it finds free.
    /// </remarks>
    private async Task PublishAsync(string key, CommitRecord record, CancellationToken cancellationToken)
    {
        var body = CommitRecordCodec.Encode(record);
        var policy = new RetryPolicy(int.MaxValue, TimeSpan.FromMilliseconds(100), _options.MaxRetryDelay);
        for (var attempt = 1; ; attempt++)
        {
            await WaitUntilMayPublishAsync(key, cancellationToken);
            try
            {
                await RetryAsync("PUT", ct => _store.PutAsync(key, body, PutCondition.CreateOnly, ct), DateTimeOffset.MaxValue, retryPermanent: true, cancellationToken);
                return;
            }
            catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed)
            {
                var existing = await TryGetForPublishAsync(key, cancellationToken);
                if (existing is null)
                {
                    Interlocked.Increment(ref _storeRetries);
                    VolumeLog.StoreRetry(_logger, "PUT", attempt, $"{e.Message}, but {key} does not exist");
                    await Task.Delay(policy.DelayAfter(attempt, Random.Shared), _time, cancellationToken);

                    // Checked last, right before the next PUT.
                    if (!await RetryAsync("GET", _lease.IsStillOursAsync, DateTimeOffset.MaxValue, retryPermanent: true, cancellationToken))
                    {
                        throw new VolumeFencedException($"lost the lease of volume '{_keys.Name}' while publishing {key}", e);
                    }

                    continue;
                }

                if (!existing.Data.AsSpan().SequenceEqual(body))
                {
                    throw new VolumeFencedException(
                        $"{(record.Kind == CommitKind.Commit ? "commit" : "checkpoint")} {record.CommitNumber} of volume '{_keys.Name}' was published by another writer; this daemon no longer owns the volume", e);
                }

                return;
            }
        }
    }

    /// <summary>
    /// The gate before every PUT of a commit, checkpoint or fence. A faulted (fenced) volume publishes nothing more. A
    /// publish waits while the lease, as this writer last renewed it, has run out by its own clock: the process was
    /// paused or cut off from S3 for longer than the TTL, and another node may own the volume now. The lease loop's
    /// next renewal either extends it or finds the takeover and faults the volume.
    /// </summary>
    private async Task WaitUntilMayPublishAsync(string key, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (Volatile.Read(ref _fault) is { } fault)
            {
                throw new VolumeFencedException($"volume '{_keys.Name}' faulted before {key} was published: {fault.Message}", fault);
            }

            if (_lease.Record.ExpiresAtUnixMs > _time.GetUtcNow().ToUnixTimeMilliseconds())
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken);
        }
    }

    private async Task<ObjectContent?> TryGetForPublishAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await RetryAsync("GET", ct => _store.GetAsync(key, null, ct), DateTimeOffset.MaxValue, retryPermanent: true, cancellationToken);
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.NotFound)
        {
            return null;
        }
    }

    /// <summary>Makes a published commit current: the map moves on, its extents leave the dirty index, waiters wake.</summary>
    private void Apply(CommitRecord record, List<(long Chunk, DirtyExtent[] Extents)> cut)
    {
        lock (_lock)
        {
            var replaced = _map.Apply(record.Changes);
            foreach (var (chunk, _) in cut)
            {
                _dirty.RemoveUpTo(chunk, record.JournalSequence);
            }

            foreach (var (chunk, old) in replaced)
            {
                _garbage.Add(new GarbageEntry(_keys.Chunk(chunk, old), record.CommitNumber, DeleteAfter: null));
            }

            _lastCommitNumber = record.CommitNumber;
            _committedSequence = record.JournalSequence;
            _lastCommitTime = record.CreatedAt;
            for (var i = _commitWaiters.Count - 1; i >= 0; i--)
            {
                if (_commitWaiters[i].Sequence <= _committedSequence)
                {
                    _commitWaiters[i].Done.TrySetResult();
                    _commitWaiters.RemoveAt(i);
                }
            }
        }

        Interlocked.Increment(ref _commitsPublished);
        VolumeLog.CommitPublished(_logger, record.CommitNumber, _keys.Name, record.JournalSequence, record.Changes.Count);
    }

    /// <summary>
    /// The empty commit a new writer publishes before serving, so that an older writer still running can never publish
    /// again (docs/volume-format.md, "Single writer").
    /// </summary>
    private async Task PublishFenceAsync(CancellationToken cancellationToken)
    {
        var record = new CommitRecord
        {
            Kind = CommitKind.Commit,
            VolumeId = _descriptor.VolumeId,
            CommitNumber = _lastCommitNumber + 1,
            Epoch = _lease.Epoch,
            WriterNode = _node,
            JournalSequence = _committedSequence,
            CreatedAt = _time.GetUtcNow(),
            Changes = [],
        };
        await PublishAsync(_keys.Commit(record.CommitNumber), record, cancellationToken);
        Apply(record, []);
    }

    /// <summary>
    /// Runs a store call, retrying failures with capped exponential backoff until <paramref name="deadline"/>. Uploads
    /// and commits retry even permanent errors (expired credentials get fixed; the data is safe in the journal).
    /// Not-found and lost races are answers, not failures, and are never retried.
    /// </summary>
    private async Task<T> RetryAsync<T>(string operation, Func<CancellationToken, Task<T>> call, DateTimeOffset deadline, bool retryPermanent, CancellationToken cancellationToken)
    {
        var policy = new RetryPolicy(int.MaxValue, TimeSpan.FromMilliseconds(100), _options.MaxRetryDelay);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(cancellationToken);
            }
            catch (ObjectStoreException e) when (
                (e.Kind == ObjectStoreErrorKind.Transient || (retryPermanent && e.Kind == ObjectStoreErrorKind.Permanent))
                && _time.GetUtcNow() < deadline)
            {
                Interlocked.Increment(ref _storeRetries);
                if (attempt == 1 || attempt % 10 == 0)
                {
                    VolumeLog.StoreRetry(_logger, operation, attempt, e.Message);
                }

                var delay = policy.DelayAfter(attempt, Random.Shared);
                var remaining = deadline - _time.GetUtcNow();
                await Task.Delay(remaining < delay ? (remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero) : delay, _time, cancellationToken);
            }
        }
    }

    private Task<bool> RetryAsync(string operation, Func<CancellationToken, Task> call, DateTimeOffset deadline, bool retryPermanent, CancellationToken cancellationToken) =>
        RetryAsync(operation, async ct =>
        {
            await call(ct);
            return true;
        }, deadline, retryPermanent, cancellationToken);
}
