namespace S3Block.Ublk.Metrics;

/// <summary>An object-store request, the <c>operation</c> label of <c>s3block_s3_*</c> (named after the S3 API call).</summary>
public enum S3Operation
{
    /// <summary><c>operation="GetObject"</c>.</summary>
    Get,

    /// <summary><c>operation="HeadObject"</c>.</summary>
    Head,

    /// <summary><c>operation="PutObject"</c>.</summary>
    Put,

    /// <summary><c>operation="DeleteObject"</c>.</summary>
    Delete,

    /// <summary><c>operation="DeleteObjects"</c> (batch delete).</summary>
    DeleteMany,

    /// <summary><c>operation="ListObjectsV2"</c>.</summary>
    List,
}

/// <summary>Label values of <see cref="S3Operation"/>, and the mapping from the object store's operation names.</summary>
public static class S3OperationLabels
{
    /// <summary>Every operation, in enum order.</summary>
    public static IReadOnlyList<S3Operation> All { get; } = Enum.GetValues<S3Operation>();

    /// <summary>The <c>operation</c> label value.</summary>
    public static string ToLabel(this S3Operation operation) => operation switch
    {
        S3Operation.Get => "GetObject",
        S3Operation.Head => "HeadObject",
        S3Operation.Put => "PutObject",
        S3Operation.Delete => "DeleteObject",
        S3Operation.DeleteMany => "DeleteObjects",
        S3Operation.List => "ListObjectsV2",
        _ => throw new ArgumentOutOfRangeException(nameof(operation), operation, null),
    };

    /// <summary>
    /// The operation named as <c>ObjectStoreException.Operation</c> and <c>RetryingObjectStore</c>'s retry callback
    /// name it (GET, HEAD, PUT, DELETE, DELETE-MANY, LIST); null for anything else.
    /// </summary>
    public static S3Operation? FromStoreName(string name) => name switch
    {
        "GET" => S3Operation.Get,
        "HEAD" => S3Operation.Head,
        "PUT" => S3Operation.Put,
        "DELETE" => S3Operation.Delete,
        "DELETE-MANY" => S3Operation.DeleteMany,
        "LIST" => S3Operation.List,
        _ => null,
    };
}
