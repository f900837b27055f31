using S3Block.ObjectStore;

namespace S3Block.TestKit;

/// <summary>Fails the first <c>failures</c> calls (of any kind) with <paramref name="kind"/>, then delegates.</summary>
public sealed class FlakyStore(IObjectStore inner, int failures, ObjectStoreErrorKind kind = ObjectStoreErrorKind.Transient) : IObjectStore
{
    /// <summary>Every call so far, failed or not.</summary>
    public int Calls { get; private set; }

    public string Location => inner.Location;

    public Task<ObjectContent> GetAsync(string key, ByteRange? range, CancellationToken cancellationToken) => Maybe(key, () => inner.GetAsync(key, range, cancellationToken));

    public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken) => Maybe(key, () => inner.HeadAsync(key, cancellationToken));

    public Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, CancellationToken cancellationToken) =>
        Maybe(key, () => inner.PutAsync(key, content, condition, cancellationToken));

    public Task DeleteAsync(string key, CancellationToken cancellationToken) => Maybe(key, async () =>
    {
        await inner.DeleteAsync(key, cancellationToken);
        return 0;
    });

    public Task<IReadOnlyList<DeleteFailure>> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) => Maybe("", () => inner.DeleteManyAsync(keys, cancellationToken));

    public Task<ListPage> ListPageAsync(string prefix, string? continuationToken, int maxKeys, CancellationToken cancellationToken) => Maybe(prefix, () => inner.ListPageAsync(prefix, continuationToken, maxKeys, cancellationToken));

    public void Dispose() => inner.Dispose();

    private Task<T> Maybe<T>(string key, Func<Task<T>> call)
    {
        Calls++;
        return Calls <= failures
            ? Task.FromException<T>(new ObjectStoreException(kind, "TEST", key, "injected"))
            : call();
    }
}
