using System.Diagnostics;
using S3Block.ObjectStore;

namespace S3Block.Ublk.Metrics;

/// <summary>
/// Wraps an object store and records every call with <see cref="S3BlockMetrics.RecordS3Request"/>: operation,
/// outcome, latency and object bytes. Wrap the store <em>under</em> <see cref="RetryingObjectStore"/> to count each
/// attempt (what the S3 server sees); wrapped around it, a call with its retries counts once.
/// </summary>
public sealed class MeteredObjectStore(IObjectStore inner, S3BlockMetrics metrics) : IObjectStore
{
    /// <inheritdoc/>
    public string Location => inner.Location;

    /// <inheritdoc/>
    public Task<ObjectContent> GetAsync(string key, ByteRange? range, CancellationToken cancellationToken) =>
        MeasureAsync(S3Operation.Get, 0, () => inner.GetAsync(key, range, cancellationToken), content => content.Data.Length);

    /// <inheritdoc/>
    public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken) =>
        MeasureAsync(S3Operation.Head, 0, () => inner.HeadAsync(key, cancellationToken), _ => 0);

    /// <inheritdoc/>
    public Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, CancellationToken cancellationToken) =>
        MeasureAsync(S3Operation.Put, content.Length, () => inner.PutAsync(key, content, condition, cancellationToken), _ => 0);

    /// <inheritdoc/>
    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        MeasureAsync(S3Operation.Delete, 0, async () =>
        {
            await inner.DeleteAsync(key, cancellationToken);
            return true;
        }, _ => 0);

    /// <inheritdoc/>
    public Task<IReadOnlyList<DeleteFailure>> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        MeasureAsync(S3Operation.DeleteMany, 0, () => inner.DeleteManyAsync(keys, cancellationToken), _ => 0);

    /// <inheritdoc/>
    public Task<ListPage> ListPageAsync(string prefix, string? continuationToken, int maxKeys, CancellationToken cancellationToken) =>
        MeasureAsync(S3Operation.List, 0, () => inner.ListPageAsync(prefix, continuationToken, maxKeys, cancellationToken), _ => 0);

    /// <inheritdoc/>
    public void Dispose() => inner.Dispose();

    private async Task<T> MeasureAsync<T>(S3Operation operation, long bytesSent, Func<Task<T>> call, Func<T, long> bytesReceived)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            var result = await call();
            metrics.RecordS3Request(operation, S3Outcome.Ok, Stopwatch.GetElapsedTime(start).TotalSeconds, bytesSent, bytesReceived(result));
            return result;
        }
        catch (Exception e)
        {
            metrics.RecordS3Request(operation, S3OutcomeLabels.FromException(e), Stopwatch.GetElapsedTime(start).TotalSeconds);
            throw;
        }
    }
}
