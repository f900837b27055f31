namespace S3Block.Volume;

/// <summary>The content of <c>&lt;volume&gt;/lease</c>.</summary>
public sealed record LeaseRecord
{
    public required Guid OwnerNode { get; init; }

    public required string Host { get; init; }

    public required int Pid { get; init; }

    public required long Epoch { get; init; }

    /// <summary>Unix milliseconds after which others may take the lease; 0 once released.</summary>
    public required long ExpiresAtUnixMs { get; init; }

    public bool IsExpired(DateTimeOffset now) => ExpiresAtUnixMs <= now.ToUnixTimeMilliseconds();
}
