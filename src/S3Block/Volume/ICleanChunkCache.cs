namespace S3Block.Volume;

/// <summary>
/// Where the volume keeps clean chunk images by key. The volume hands it <c>{volume id}/{object key}</c> (see
/// <see cref="VolumeBoundChunkCache"/>), a key that names the same bytes forever, so an entry can never be stale.
/// Implemented over <c>S3Block.Cache.Chunks</c>; a miss is always allowed, and an implementation must return a miss,
/// never data, for an entry it cannot verify.
/// </summary>
public interface ICleanChunkCache
{
    /// <summary>Copies <paramref name="destination"/>.Length bytes from <paramref name="offset"/> of the image; false on a miss.</summary>
    ValueTask<bool> TryReadAsync(string key, int offset, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>Keeps a copy of an image (after an upload, from a buffer the caller reuses).</summary>
    ValueTask PutAsync(string key, ReadOnlyMemory<byte> image, CancellationToken cancellationToken);

    /// <summary>Keeps an image that nobody changes afterwards (a GET's array): the cache may keep the array itself, not a
    /// copy (the caller may go on reading it).</summary>
    ValueTask PutImmutableAsync(string key, byte[] image, CancellationToken cancellationToken);

    /// <summary>Whether the cache holds the image now, without I/O (a hint: a later read may still miss).</summary>
    bool Contains(string key);
}

/// <summary>A cache that keeps nothing: every read of committed data goes to the store.</summary>
public sealed class NoChunkCache : ICleanChunkCache
{
    public static NoChunkCache Instance { get; } = new();

    public ValueTask<bool> TryReadAsync(string key, int offset, Memory<byte> destination, CancellationToken cancellationToken) => ValueTask.FromResult(false);

    public ValueTask PutAsync(string key, ReadOnlyMemory<byte> image, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask PutImmutableAsync(string key, byte[] image, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public bool Contains(string key) => false;
}
