using S3Block.ObjectStore.Local;
using S3Block.ObjectStore.S3;

namespace S3Block.ObjectStore;

/// <summary>Builds the configured store, wrapped in the retry policy.</summary>
public static class ObjectStoreFactory
{
    /// <summary>Creates the store; the options must already be valid (<see cref="StoreOptions.Validate"/>).</summary>
    public static IObjectStore Create(StoreOptions options, RetryPolicy retryPolicy, Action<string, ObjectStoreException>? onRetry = null)
    {
        IObjectStore inner = options.Kind switch
        {
            "local" => new LocalDirectoryObjectStore(options.Local.Path),
            "s3" => new S3ObjectStore(options.S3),
            _ => throw new ArgumentException($"unknown store kind '{options.Kind}'", nameof(options)),
        };
        return new RetryingObjectStore(inner, retryPolicy, onRetry);
    }
}
