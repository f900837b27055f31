namespace S3Block.ObjectStore;

/// <summary>An object-store call failed; <see cref="Kind"/> says how the caller should react.</summary>
public sealed class ObjectStoreException : Exception
{
    public ObjectStoreException(ObjectStoreErrorKind kind, string operation, string key, string message, Exception? innerException = null)
        : base($"{operation} {(key.Length == 0 ? "" : $"'{key}' ")}failed ({kind}): {message}", innerException)
    {
        Kind = kind;
        Operation = operation;
        Key = key;
    }

    /// <summary>The failure's class.</summary>
    public ObjectStoreErrorKind Kind { get; }

    /// <summary>The operation that failed (GET, HEAD, PUT, DELETE, DELETE-MANY, LIST).</summary>
    public string Operation { get; }

    /// <summary>The key involved, or empty for requests without one.</summary>
    public string Key { get; }

    /// <summary>The store's own error code when it gave one (e.g. <c>NoSuchBucket</c>, <c>SlowDown</c>).</summary>
    public string? ErrorCode { get; init; }

    /// <summary>True when retrying may succeed.</summary>
    public bool IsTransient => Kind == ObjectStoreErrorKind.Transient;
}
