namespace S3Block.ObjectStore;

/// <summary>What a failed object-store call means for the caller.</summary>
public enum ObjectStoreErrorKind
{
    /// <summary>The key (or, for <see cref="IObjectStore.HeadAsync"/>, the object) does not exist.</summary>
    NotFound,

    /// <summary>A conditional write lost: the object exists (create-only) or its ETag changed (compare-and-swap).</summary>
    PreconditionFailed,

    /// <summary>The requested range starts past the end of the object.</summary>
    InvalidRange,

    /// <summary>Worth retrying: 5xx, throttling, timeouts, connection failures.</summary>
    Transient,

    /// <summary>Retrying will not help without an operator: bad credentials, missing bucket, invalid request.</summary>
    Permanent,
}
