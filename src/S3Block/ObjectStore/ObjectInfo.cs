namespace S3Block.ObjectStore;

/// <summary>An object's metadata, as HEAD or LIST report it.</summary>
/// <param name="Key">The object's key.</param>
/// <param name="Size">Its length in bytes.</param>
/// <param name="ETag">Its unquoted ETag.</param>
/// <param name="LastModified">When it was last written.</param>
public sealed record ObjectInfo(string Key, long Size, string ETag, DateTimeOffset LastModified);
