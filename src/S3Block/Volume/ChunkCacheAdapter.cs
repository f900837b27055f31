using S3Block.Cache.Chunks;

namespace S3Block.Volume;

/// <summary>The volume's view of the local clean-chunk cache (RAM and disk tiers). The volume wraps it in a
/// <see cref="VolumeBoundChunkCache"/>, so the keys it sees are <c>{volume id}/{object key}</c>.</summary>
public sealed class ChunkCacheAdapter(ChunkCache cache) : ICleanChunkCache
{
    public ValueTask<bool> TryReadAsync(string key, int offset, Memory<byte> destination, CancellationToken cancellationToken) =>
        cache.TryReadAsync(key, offset, destination, cancellationToken);

    public async ValueTask PutAsync(string key, ReadOnlyMemory<byte> image, CancellationToken cancellationToken) =>
        await cache.PutAsync(key, image, cancellationToken);

    public async ValueTask PutImmutableAsync(string key, byte[] image, CancellationToken cancellationToken) =>
        await cache.PutImmutableAsync(key, image, cancellationToken);

    public bool Contains(string key) => cache.Contains(key);
}
