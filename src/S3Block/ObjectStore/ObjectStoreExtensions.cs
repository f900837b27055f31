using System.Runtime.CompilerServices;

namespace S3Block.ObjectStore;

/// <summary>Conveniences built only from <see cref="IObjectStore"/>'s primitives.</summary>
public static class ObjectStoreExtensions
{
    /// <summary>Every object under <paramref name="prefix"/>, following continuation tokens page by page.</summary>
    public static async IAsyncEnumerable<ObjectInfo> ListAllAsync(
        this IObjectStore store, string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? token = null;
        do
        {
            var page = await store.ListPageAsync(prefix, token, IObjectStore.MaxListPage, cancellationToken);
            foreach (var info in page.Objects)
            {
                yield return info;
            }

            token = page.NextContinuationToken;
        }
        while (token is not null);
    }

    /// <summary>The object's bytes, or null when the key does not exist.</summary>
    public static async Task<ObjectContent?> TryGetAsync(this IObjectStore store, string key, CancellationToken cancellationToken)
    {
        try
        {
            return await store.GetAsync(key, range: null, cancellationToken);
        }
        catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.NotFound)
        {
            return null;
        }
    }

    /// <summary>Deletes any number of keys in batches of <see cref="IObjectStore.MaxDeleteBatch"/>.</summary>
    public static async Task<IReadOnlyList<DeleteFailure>> DeleteAllAsync(
        this IObjectStore store, IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        var failures = new List<DeleteFailure>();
        foreach (var batch in keys.Chunk(IObjectStore.MaxDeleteBatch))
        {
            failures.AddRange(await store.DeleteManyAsync(batch, cancellationToken));
        }

        return failures;
    }
}
