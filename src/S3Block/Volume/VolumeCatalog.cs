using S3Block.ObjectStore;

namespace S3Block.Volume;

/// <summary>Creates volumes in a store and reads their committed state back from the store alone.</summary>
public static class VolumeCatalog
{
    /// <summary>Writes a new volume's descriptor; fails if a volume of that name exists.</summary>
    public static async Task CreateAsync(IObjectStore store, VolumeDescriptor descriptor, CancellationToken cancellationToken)
    {
        var keys = new VolumeKeys(descriptor.Name);
        try
        {
            await store.PutAsync(keys.Descriptor, descriptor.ToJson(), PutCondition.CreateOnly, cancellationToken);
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed)
        {
            throw new VolumeException($"volume '{descriptor.Name}' already exists in {store.Location}", e);
        }
    }

    /// <summary>The names of the volumes in the store.</summary>
    public static async Task<List<string>> ListAsync(IObjectStore store, CancellationToken cancellationToken) =>
        await store.ListAllAsync("", cancellationToken)
            .Where(o => o.Key.EndsWith("/volume.json", StringComparison.Ordinal) && o.Key.Count(c => c == '/') == 1)
            .Select(o => o.Key[..o.Key.IndexOf('/')])
            .ToListAsync(cancellationToken);

    /// <summary>
    /// Reads and checks the volume's descriptor. A daemon asks this first, so wrong store settings (they surface as
    /// <see cref="ObjectStoreException"/>) and a missing volume are reported before it creates anything locally.
    /// </summary>
    public static async Task<VolumeDescriptor> ReadDescriptorAsync(IObjectStore store, string volumeName, CancellationToken cancellationToken)
    {
        var keys = new VolumeKeys(volumeName);
        var raw = await store.TryGetAsync(keys.Descriptor, cancellationToken)
                  ?? throw new VolumeException($"volume '{volumeName}' does not exist in {store.Location} (create it first)");
        var descriptor = VolumeDescriptor.FromJson(raw.Data);
        var problem = descriptor.Validate().FirstOrDefault();
        if (problem is not null)
        {
            throw new VolumeException($"volume '{volumeName}': {problem}");
        }

        return descriptor;
    }

    /// <summary>Reads the descriptor, the newest checkpoint and every commit after it.</summary>
    public static async Task<CommittedState> OpenAsync(IObjectStore store, string volumeName, CancellationToken cancellationToken)
    {
        var keys = new VolumeKeys(volumeName);
        var descriptor = await ReadDescriptorAsync(store, volumeName, cancellationToken);
        var map = new ChunkMap();
        var state = new CommittedState(descriptor, map);
        var checkpoint = await ReadNewestCheckpointAsync(store, keys, descriptor, cancellationToken);
        if (checkpoint is not null)
        {
            state.Load(checkpoint);
            state.CheckpointNumber = checkpoint.CommitNumber;
        }

        var commitNumbers = await store.ListAllAsync(keys.CommitsPrefix, cancellationToken)
            .Select(o => VolumeKeys.NumberFromKey(o.Key))
            .Where(n => n > state.LastCommitNumber)
            .Select(n => n!.Value)
            .ToListAsync(cancellationToken);
        foreach (var number in commitNumbers.Order())
        {
            if (number != state.LastCommitNumber + 1)
            {
                throw new VolumeException(
                    $"volume '{volumeName}': commit {state.LastCommitNumber + 1} is missing but {number} exists; the commit chain is broken");
            }

            var commit = await ReadRecordAsync(store, keys.Commit(number), descriptor, cancellationToken)
                         ?? throw new VolumeException($"volume '{volumeName}': commit {number} vanished while opening");
            state.Load(commit);
        }

        return state;
    }

    /// <summary>Reads one commit record or checkpoint; null when the key does not exist.</summary>
    public static async Task<CommitRecord?> ReadRecordAsync(IObjectStore store, string key, VolumeDescriptor descriptor, CancellationToken cancellationToken)
    {
        var raw = await store.TryGetAsync(key, cancellationToken);
        if (raw is null)
        {
            return null;
        }

        var record = CommitRecordCodec.Decode(raw.Data, key);
        return record.VolumeId == descriptor.VolumeId
            ? record
            : throw new VolumeException($"{key} belongs to volume {record.VolumeId}, not {descriptor.VolumeId}");
    }

    private static async Task<CommitRecord?> ReadNewestCheckpointAsync(IObjectStore store, VolumeKeys keys, VolumeDescriptor descriptor, CancellationToken cancellationToken)
    {
        var numbers = await store.ListAllAsync(keys.CheckpointsPrefix, cancellationToken)
            .Select(o => VolumeKeys.NumberFromKey(o.Key))
            .Where(n => n is not null)
            .Select(n => n!.Value)
            .ToListAsync(cancellationToken);
        foreach (var number in numbers.OrderDescending())
        {
            try
            {
                var record = await ReadRecordAsync(store, keys.Checkpoint(number), descriptor, cancellationToken);
                if (record is not null)
                {
                    return record;
                }
            }
            catch (InvalidDataException)
            {
                // A damaged checkpoint: the previous one plus the commits after it describe the same state.
            }
        }

        return null;
    }
}
