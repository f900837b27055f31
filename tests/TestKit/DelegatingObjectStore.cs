using S3Block.ObjectStore;

namespace S3Block.TestKit;

/// <summary>A store that passes every call to <paramref name="inner"/>; a test double overrides only the calls it
/// intercepts.</summary>
public abstract class DelegatingObjectStore(IObjectStore inner) : IObjectStore
{
    protected IObjectStore Inner => inner;

    public string Location => inner.Location;

    public virtual Task<ObjectContent> GetAsync(string key, ByteRange? range, CancellationToken cancellationToken) =>
        inner.GetAsync(key, range, cancellationToken);

    public virtual Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken) => inner.HeadAsync(key, cancellationToken);

    public virtual Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, CancellationToken cancellationToken) =>
        inner.PutAsync(key, content, condition, cancellationToken);

    public virtual Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

    public virtual Task<IReadOnlyList<DeleteFailure>> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        inner.DeleteManyAsync(keys, cancellationToken);

    public virtual Task<ListPage> ListPageAsync(string prefix, string? continuationToken, int maxKeys, CancellationToken cancellationToken) =>
        inner.ListPageAsync(prefix, continuationToken, maxKeys, cancellationToken);

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
    }
}
