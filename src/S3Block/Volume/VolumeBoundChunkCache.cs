namespace S3Block.Volume;

/// <summary>
/// One volume's view of a clean-chunk cache: every object key is prefixed with the volume's id, so the cache holds
/// <c>{volume id as 32 hex digits}/{object key}</c>.
/// </summary>
/// <remarks>
/// Object keys name the same bytes only within one volume: a volume deleted and re-created under the same name starts
/// again at epoch 1 and commit 2, and so does the same name in another bucket, prefix or store kind that the same state
/// folder (and cache folder) is pointed at. Without the id such a volume would read the old volume's cached bytes, and
/// upload them as base images. The id is a new <see cref="Guid"/> at every <c>create</c> (the only code that writes a
/// descriptor, <see cref="VolumeCatalog.CreateAsync"/>, refuses to overwrite one), so the old volume's entries are
/// never found: they are not read, and age out of the cache as its least recently used entries.
/// </remarks>
internal sealed class VolumeBoundChunkCache(ICleanChunkCache cache, Guid volumeId) : ICleanChunkCache
{
    private readonly string _prefix = volumeId.ToString("N") + "/";

    public ValueTask<bool> TryReadAsync(string key, int offset, Memory<byte> destination, CancellationToken cancellationToken) =>
        cache.TryReadAsync(_prefix + key, offset, destination, cancellationToken);

    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> image, CancellationToken cancellationToken) =>
        cache.PutAsync(_prefix + key, image, cancellationToken);

    public ValueTask PutImmutableAsync(string key, byte[] image, CancellationToken cancellationToken) =>
        cache.PutImmutableAsync(_prefix + key, image, cancellationToken);

    public bool Contains(string key) => cache.Contains(_prefix + key);
}
