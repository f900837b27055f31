using S3Block.ObjectStore.Local;
using S3Block.ObjectStore.S3;

namespace S3Block.ObjectStore;

/// <summary>Builds the configured store, wrapped in the retry policy.</summary>
public static class ObjectStoreFactory
{
    /// <summary>Creates the store; the options must already be valid (<see cref="StoreOptions.Validate"/>).</summary>
    /// <param name="options">Which store.</param>
    /// <param name="retryPolicy">How transient failures are retried.</param>
    /// <param name="onRetry">Told of each failure that will be retried (operation, error): logs and metrics.</param>
    /// <param name="eachAttempt">Wraps the bare store <em>under</em> the retry layer, so the wrapper sees every attempt
    /// (e.g. a metering decorator counting what the server sees); null for none.</param>
    public static IObjectStore Create(
        StoreOptions options,
        RetryPolicy retryPolicy,
        Action<string, ObjectStoreException>? onRetry = null,
        Func<IObjectStore, IObjectStore>? eachAttempt = null)
    {
        var inner = CreateBare(options);
        return new RetryingObjectStore(eachAttempt is null ? inner : eachAttempt(inner), retryPolicy, onRetry);
    }

    private static IObjectStore CreateBare(StoreOptions options) => options.Kind switch
    {
        "local" => new LocalDirectoryObjectStore(options.Local.Path),
        "s3" => new S3ObjectStore(options.S3),
        _ => throw new ArgumentException($"unknown store kind '{options.Kind}'", nameof(options)),
    };
}
