namespace S3Block.Volume;

/// <summary>
/// The committed version of every non-zero chunk, as of one commit. Absent chunks read as zeros.
/// </summary>
/// <remarks>Not thread-safe: the volume guards it with its own lock.</remarks>
public sealed class ChunkMap
{
    private readonly Dictionary<long, ChunkVersion> _versions = [];

    public int Count => _versions.Count;

    public ChunkVersion this[long chunkIndex] => _versions.GetValueOrDefault(chunkIndex);

    /// <summary>Applies a commit's changes (or loads a checkpoint's entries); returns the versions they replaced.</summary>
    public List<(long ChunkIndex, ChunkVersion Old)> Apply(IEnumerable<ChunkChange> changes)
    {
        var replaced = new List<(long, ChunkVersion)>();
        foreach (var change in changes)
        {
            if (_versions.TryGetValue(change.ChunkIndex, out var old) && old != change.Version)
            {
                replaced.Add((change.ChunkIndex, old));
            }

            if (change.Version.IsZero)
            {
                _versions.Remove(change.ChunkIndex);
            }
            else
            {
                _versions[change.ChunkIndex] = change.Version;
            }
        }

        return replaced;
    }

    /// <summary>Every non-zero chunk, ordered by index (a checkpoint's entries).</summary>
    public List<ChunkChange> Snapshot() =>
        [.. _versions.OrderBy(kv => kv.Key).Select(kv => new ChunkChange(kv.Key, kv.Value))];
}
