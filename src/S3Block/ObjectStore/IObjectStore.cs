namespace S3Block.ObjectStore;

/// <summary>
/// A flat key/value store of immutable-per-version objects with S3 semantics: the one thing the volume needs from
/// S3, and what the local directory store reproduces so the product runs without a cloud account.
/// </summary>
/// <remarks>
/// <para>ETags are always given and taken <em>unquoted</em>.</para>
/// <para>Failures are <see cref="ObjectStoreException"/> with a <see cref="ObjectStoreErrorKind"/>; cancellation through
/// the token is an <see cref="OperationCanceledException"/>. Implementations do not retry: wrap them in
/// <see cref="RetryingObjectStore"/> to retry transient failures.</para>
/// </remarks>
public interface IObjectStore : IDisposable
{
    /// <summary>A human-readable location without secrets, e.g. <c>s3://bucket/prefix (http://127.0.0.1:7480)</c>.</summary>
    string Location { get; }

    /// <summary>Reads a whole object, or the part of it in <paramref name="range"/>.</summary>
    /// <remarks>A range that starts past the end fails with <see cref="ObjectStoreErrorKind.InvalidRange"/>; one that
    /// extends past the end returns the bytes that exist.</remarks>
    Task<ObjectContent> GetAsync(string key, ByteRange? range, CancellationToken cancellationToken);

    /// <summary>Reads an object's metadata.</summary>
    Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Stores an object atomically, optionally only if <paramref name="condition"/> holds.</summary>
    /// <returns>The new object's ETag.</returns>
    Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, CancellationToken cancellationToken);

    /// <summary>Deletes an object; deleting a missing key succeeds.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes up to <see cref="MaxDeleteBatch"/> keys in one request; missing keys count as deleted.</summary>
    /// <returns>The keys that could not be deleted, with the reason (empty when all went).</returns>
    Task<IReadOnlyList<DeleteFailure>> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken);

    /// <summary>One page of keys that start with <paramref name="prefix"/>, in ascending ordinal key order.</summary>
    Task<ListPage> ListPageAsync(string prefix, string? continuationToken, int maxKeys, CancellationToken cancellationToken);

    /// <summary>The most keys <see cref="DeleteManyAsync"/> takes in one call (S3's limit).</summary>
    public const int MaxDeleteBatch = 1000;

    /// <summary>The most keys one <see cref="ListPageAsync"/> returns (S3's limit).</summary>
    public const int MaxListPage = 1000;
}
