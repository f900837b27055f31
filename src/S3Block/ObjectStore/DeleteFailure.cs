namespace S3Block.ObjectStore;

/// <summary>A key that a batch delete could not remove.</summary>
/// <param name="Key">The key.</param>
/// <param name="Code">The store's error code (e.g. <c>AccessDenied</c>).</param>
/// <param name="Message">A description, possibly empty.</param>
public sealed record DeleteFailure(string Key, string Code, string Message);
