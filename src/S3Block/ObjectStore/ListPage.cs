namespace S3Block.ObjectStore;

/// <summary>One page of a listing.</summary>
/// <param name="Objects">The page's objects in ascending ordinal key order.</param>
/// <param name="NextContinuationToken">Pass to the next call to continue; null on the last page.</param>
public sealed record ListPage(IReadOnlyList<ObjectInfo> Objects, string? NextContinuationToken);
