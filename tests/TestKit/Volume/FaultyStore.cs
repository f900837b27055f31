using S3Block.ObjectStore;

namespace S3Block.TestKit.Volume;

/// <summary>
/// Wraps a real store to inject what S3 does to its clients: outages (every call fails as transient) and a crash of
/// the caller at the N-th chunk upload (the call never completes; the test then abandons the volume).
/// </summary>
public sealed class FaultyStore(IObjectStore inner) : IObjectStore
{
    private int _chunkPuts;

    /// <summary>While true, every call fails with a transient error, as during an S3 outage.</summary>
    public volatile bool Down;

    /// <summary>When set, the chunk PUT with this 1-based number (counted from now) "crashes" the caller.</summary>
    public int? CrashAtChunkPut { get; set; }

    /// <summary>Cancelled when the crash point is reached.</summary>
    public CancellationTokenSource Crashed { get; private set; } = new();

    public int CallsWhileDown => KeysWhileDown.Count;

    /// <summary>The key (or prefix) of every call made while <see cref="Down"/>, so a test can say which call it was.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> KeysWhileDown { get; } = new();

    /// <summary>The calls made while down other than the lease's renewal, which runs on its own timer from the moment
    /// the lease is held and is unrelated to the I/O a test checks.</summary>
    public IEnumerable<string> KeysWhileDownBesidesTheLease => KeysWhileDown.Where(k => !k.EndsWith("/lease", StringComparison.Ordinal));

    /// <summary>When set, the next PUT to this key lands but its answer is lost (a transient error), as when S3 goes
    /// away mid-request.</summary>
    public string? LoseAnswerOfNextPutTo { get; set; }

    /// <summary>When set, the next conditional PUT to a key under this prefix does not land and is answered as a lost
    /// race, as RadosGW's 500 to a conditional PUT is reported (s3-servers.md, quirk 4).</summary>
    public string? RefuseNextConditionalPutUnder { get; set; }

    public string Location => inner.Location;

    public Task<ObjectContent> GetAsync(string key, ByteRange? range, CancellationToken cancellationToken) => Gate(key, () => inner.GetAsync(key, range, cancellationToken));

    public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken) => Gate(key, () => inner.HeadAsync(key, cancellationToken));

    public async Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, CancellationToken cancellationToken)
    {
        if (key.Contains("/chunks/", StringComparison.Ordinal) && CrashAtChunkPut is { } crashAt && Interlocked.Increment(ref _chunkPuts) >= crashAt)
        {
            await Crashed.CancelAsync();
            throw new OperationCanceledException("crash injected at a chunk upload", Crashed.Token);
        }

        if (condition != PutCondition.None && RefuseNextConditionalPutUnder is { } prefix && key.StartsWith(prefix, StringComparison.Ordinal))
        {
            RefuseNextConditionalPutUnder = null;
            throw new ObjectStoreException(ObjectStoreErrorKind.PreconditionFailed, "PUT", key, "injected: HTTP 500 to a conditional PUT") { ErrorCode = "UnknownError" };
        }

        var etag = await Gate(key, () => inner.PutAsync(key, content, condition, cancellationToken));
        if (key == LoseAnswerOfNextPutTo)
        {
            LoseAnswerOfNextPutTo = null;
            throw new ObjectStoreException(ObjectStoreErrorKind.Transient, "PUT", key, "injected: the answer was lost") { ErrorCode = "NetworkError" };
        }

        return etag;
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken) => Gate(key, async () =>
    {
        await inner.DeleteAsync(key, cancellationToken);
        return 0;
    });

    public Task<IReadOnlyList<DeleteFailure>> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) =>
        Gate("", () => inner.DeleteManyAsync(keys, cancellationToken));

    public Task<ListPage> ListPageAsync(string prefix, string? continuationToken, int maxKeys, CancellationToken cancellationToken) =>
        Gate(prefix, () => inner.ListPageAsync(prefix, continuationToken, maxKeys, cancellationToken));

    public void ResetCrash()
    {
        CrashAtChunkPut = null;
        _chunkPuts = 0;
        Crashed = new CancellationTokenSource();
    }

    public void Dispose() => inner.Dispose();

    private Task<T> Gate<T>(string key, Func<Task<T>> call)
    {
        if (Down)
        {
            KeysWhileDown.Enqueue(key);
            return Task.FromException<T>(new ObjectStoreException(ObjectStoreErrorKind.Transient, "TEST", key, "injected outage") { ErrorCode = "NetworkError" });
        }

        return call();
    }
}
