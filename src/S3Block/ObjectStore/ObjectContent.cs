namespace S3Block.ObjectStore;

/// <summary>The bytes a GET returned, with the object's identity.</summary>
/// <param name="Data">The object's bytes, or the requested range of them.</param>
/// <param name="ETag">The unquoted ETag of the whole object.</param>
/// <param name="ObjectSize">The whole object's size (not just the range's).</param>
public sealed record ObjectContent(byte[] Data, string ETag, long ObjectSize);
