namespace S3Block.ObjectStore;

/// <summary>
/// Retries <see cref="ObjectStoreErrorKind.Transient"/> failures of an inner store with <see cref="RetryPolicy"/>;
/// every other outcome passes through unchanged.
/// </summary>
/// <remarks>
/// A conditional PUT whose first try reached the store but whose answer was lost can, when retried, report
/// <see cref="ObjectStoreErrorKind.PreconditionFailed"/> although it won. Callers of conditional writes therefore
/// confirm a lost race by reading the object back (the lease does); this wrapper cannot know.
/// </remarks>
public sealed class RetryingObjectStore : IObjectStore
{
    private readonly IObjectStore _inner;
    private readonly RetryPolicy _policy;
    private readonly Action<string, ObjectStoreException>? _onRetry;

    /// <param name="inner">The store to call.</param>
    /// <param name="policy">How often and how long to wait.</param>
    /// <param name="onRetry">Told of each failure that will be retried (for logs and metrics).</param>
    public RetryingObjectStore(IObjectStore inner, RetryPolicy policy, Action<string, ObjectStoreException>? onRetry = null)
    {
        _inner = inner;
        _policy = policy;
        _onRetry = onRetry;
    }

    public string Location => _inner.Location;

    public Task<ObjectContent> GetAsync(string key, ByteRange? range, CancellationToken cancellationToken) =>
        RunAsync("GET", ct => _inner.GetAsync(key, range, ct), cancellationToken);

    public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken) =>
        RunAsync("HEAD", ct => _inner.HeadAsync(key, ct), cancellationToken);

    public Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, CancellationToken cancellationToken) =>
        RunAsync("PUT", ct => _inner.PutAsync(key, content, condition, ct), cancellationToken);

    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        RunAsync("DELETE", async ct =>
        {
            await _inner.DeleteAsync(key, ct);
            return true;
        }, cancellationToken);

    public Task<IReadOnlyList<DeleteFailure>> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        RunAsync("DELETE-MANY", ct => _inner.DeleteManyAsync(keys, ct), cancellationToken);

    public Task<ListPage> ListPageAsync(string prefix, string? continuationToken, int maxKeys, CancellationToken cancellationToken) =>
        RunAsync("LIST", ct => _inner.ListPageAsync(prefix, continuationToken, maxKeys, ct), cancellationToken);

    public void Dispose() => _inner.Dispose();

    private async Task<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(cancellationToken);
            }
            catch (ObjectStoreException e) when (e.IsTransient && attempt < _policy.MaxAttempts)
            {
                _onRetry?.Invoke(operation, e);
                await Task.Delay(_policy.DelayAfter(attempt, Random.Shared), cancellationToken);
            }
        }
    }
}
