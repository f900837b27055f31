using S3Block.ObjectStore;

namespace S3Block.Volume;

public sealed partial class S3Volume
{
    // Guarded by _lock.
    private readonly List<GarbageEntry> _garbage = [];
    private long _lastCheckpointNumber;
    private long _checkpointsWritten;
    private long _garbageDeleted;

    /// <summary>After a commit: a lease renewal if the volume became clean, a checkpoint every <see cref="VolumeOptions.CheckpointEvery"/> commits, and garbage deletion.</summary>
    private async Task MaintainAfterCommitAsync(CancellationToken cancellationToken)
    {
        long commit;
        List<ChunkChange> snapshot;
        lock (_lock)
        {
            if (_lease.Record.DataState != LeaseDataState.Clean && _committedSequence >= _indexed.CompletedThrough)
            {
                // Everything is in S3 now: say so in the lease at once, so a refusal after a crash reports it.
                _renewer.RenewSoon();
            }

            commit = _lastCommitNumber;
            if (commit - _lastCheckpointNumber < _options.CheckpointEvery)
            {
                snapshot = [];
            }
            else
            {
                snapshot = _map.Snapshot();
            }
        }

        if (commit - _lastCheckpointNumber >= _options.CheckpointEvery)
        {
            await WriteCheckpointAsync(commit, snapshot, cancellationToken);
        }

        await DeleteGarbageAsync(cancellationToken);
    }

    /// <summary>
    /// Writes the full map as of <paramref name="commit"/>, then drops the records opening no longer needs: commits and
    /// checkpoints older than the previous checkpoint (one generation is kept for readers that listed just before).
    /// Versions superseded up to this commit become deletable after <see cref="VolumeOptions.GarbageDelay"/>.
    /// </summary>
    private async Task WriteCheckpointAsync(long commit, List<ChunkChange> entries, CancellationToken cancellationToken)
    {
        var record = new CommitRecord
        {
            Kind = CommitKind.Checkpoint,
            VolumeId = _descriptor.VolumeId,
            CommitNumber = commit,
            Epoch = _lease.Epoch,
            WriterNode = _node,
            JournalSequence = _committedSequence,
            CreatedAt = _time.GetUtcNow(),
            Changes = entries,
        };
        await PublishAsync(_keys.Checkpoint(commit), record, cancellationToken);
        long previous;
        lock (_lock)
        {
            previous = _lastCheckpointNumber;
            _lastCheckpointNumber = commit;
            var deleteAfter = _time.GetUtcNow() + _options.GarbageDelay;
            for (var i = 0; i < _garbage.Count; i++)
            {
                if (_garbage[i].SupersededAt <= commit && _garbage[i].DeleteAfter is null)
                {
                    _garbage[i] = _garbage[i] with { DeleteAfter = deleteAfter };
                }
            }
        }

        Interlocked.Increment(ref _checkpointsWritten);
        var obsolete = await _store.ListAllAsync(_keys.CommitsPrefix, cancellationToken)
            .Concat(_store.ListAllAsync(_keys.CheckpointsPrefix, cancellationToken))
            .Where(o => VolumeKeys.NumberFromKey(o.Key) < previous)
            .Select(o => o.Key)
            .ToListAsync(cancellationToken);
        await DeleteKeysAsync(obsolete, cancellationToken);
        VolumeLog.CheckpointWritten(_logger, commit, _keys.Name, entries.Count, obsolete.Count);
    }

    /// <summary>
    /// Finds chunk objects that no reader can need (neither the newest checkpoint nor a later commit names them) and
    /// queues them as garbage: orphans of uploads a crash interrupted before their commit, and superseded versions whose
    /// in-memory garbage entry died with a previous process. Only objects of older epochs than this writer's: its own
    /// are left to its garbage list, and a newer epoch's belong to a writer that took the volume over since this open
    /// (whose state this writer never saw). The lease is re-read before the deletes, as before a publish.
    /// </summary>
    private async Task SweepUnreferencedAsync(CommittedState openedAt, CancellationToken cancellationToken)
    {
        try
        {
            var unreferenced = await _store.ListAllAsync(_keys.ChunksPrefix, cancellationToken)
                .Where(o => _keys.TryParseChunk(o.Key, out var chunk, out var version)
                            && version.Epoch < _lease.Epoch
                            && !openedAt.ReferencedVersions.Contains((chunk, version)))
                .Select(o => o.Key)
                .ToListAsync(cancellationToken);
            var deleteAfter = _time.GetUtcNow() + _options.GarbageDelay;
            lock (_lock)
            {
                _garbage.AddRange(unreferenced.Select(key => new GarbageEntry(key, 0, deleteAfter)));
            }

            VolumeLog.SweepFound(_logger, _keys.Name, unreferenced.Count);
            if (unreferenced.Count > 0 && !await _lease.IsStillOursAsync(cancellationToken))
            {
                Fault(new VolumeFencedException($"lost the lease of volume '{_keys.Name}' before its orphan sweep deleted anything"));
                return;
            }

            await DeleteGarbageAsync(cancellationToken);
        }
        catch (ObjectStoreException e)
        {
            VolumeLog.GarbageDeleteFailed(_logger, 0, _keys.Name, e.Message);
        }
    }

    /// <summary>Deletes superseded chunk versions whose safety delay has passed, in batches.</summary>
    private async Task DeleteGarbageAsync(CancellationToken cancellationToken)
    {
        List<GarbageEntry> due;
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (_fault is not null)
            {
                return; // A fenced writer's idea of what is garbage may be out of date.
            }

            due = _garbage.Where(g => g.DeleteAfter <= now).ToList();
        }

        if (due.Count == 0)
        {
            return;
        }

        var failed = await DeleteKeysAsync(due.Select(g => g.Key).ToList(), cancellationToken);
        lock (_lock)
        {
            _garbage.RemoveAll(g => g.DeleteAfter <= now && !failed.Contains(g.Key));
        }

        Interlocked.Add(ref _garbageDeleted, due.Count - failed.Count);
    }

    /// <summary>Deletes keys in batches; returns the ones that could not be deleted this time. Gated like a publish: a
    /// writer whose lease ran out (by its own clock) or that lost the volume deletes nothing.</summary>
    private async Task<HashSet<string>> DeleteKeysAsync(List<string> keys, CancellationToken cancellationToken)
    {
        var failed = new HashSet<string>(StringComparer.Ordinal);
        if (keys.Count == 0)
        {
            return failed;
        }

        try
        {
            await WaitUntilMayPublishAsync($"the deletion of {keys.Count} objects", cancellationToken);
        }
        catch (VolumeFencedException)
        {
            failed.UnionWith(keys);
            return failed;
        }

        foreach (var batch in keys.Chunk(IObjectStore.MaxDeleteBatch))
        {
            try
            {
                foreach (var failure in await _store.DeleteManyAsync(batch, cancellationToken))
                {
                    failed.Add(failure.Key);
                }
            }
            catch (ObjectStoreException e)
            {
                // Garbage waits for the next sweep; it never blocks write-back.
                Interlocked.Increment(ref _storeRetries);
                VolumeLog.GarbageDeleteFailed(_logger, batch.Length, _keys.Name, e.Message);
                failed.UnionWith(batch);
            }
        }

        return failed;
    }

    /// <summary>A superseded chunk version: deletable once a checkpoint after <paramref name="SupersededAt"/> exists and
    /// <paramref name="DeleteAfter"/> has passed.</summary>
    private readonly record struct GarbageEntry(string Key, long SupersededAt, DateTimeOffset? DeleteAfter);
}
