namespace S3Block.ObjectStore.S3;

/// <summary>Where and how to reach an S3-compatible store. Bound from the <c>Store:S3</c> configuration section.</summary>
public sealed class S3StoreOptions
{
    /// <summary>The bucket (required). It must exist; the daemon never creates buckets.</summary>
    public string Bucket { get; set; } = "";

    /// <summary>A key prefix under which everything is stored, e.g. <c>volumes/</c>. Default: empty.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>The endpoint URL for S3-compatible stores and LocalStack, e.g. <c>http://localhost:4566</c>.
    /// Default: empty, meaning AWS's regional endpoint.</summary>
    public string ServiceUrl { get; set; } = "";

    /// <summary>The region used for signing. Default: <c>us-east-1</c>.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Path-style addressing (<c>endpoint/bucket/key</c>), needed by most non-AWS stores. Default: true when
    /// <see cref="ServiceUrl"/> is set, otherwise false.</summary>
    public bool? ForcePathStyle { get; set; }

    /// <summary>An access key; when empty, the standard AWS credential chain is used (environment, profile,
    /// instance role). Default: empty.</summary>
    public string AccessKey { get; set; } = "";

    /// <summary>The secret for <see cref="AccessKey"/>. Never logged. Default: empty.</summary>
    public string SecretKey { get; set; } = "";

    /// <summary>When the SDK adds flexible checksums: <see cref="S3ChecksumMode.WhenRequired"/> (default) works with AWS and
    /// with RadosGW, which rejects the trailing checksums that <see cref="S3ChecksumMode.WhenSupported"/> sends.</summary>
    public S3ChecksumMode ChecksumMode { get; set; } = S3ChecksumMode.WhenRequired;

    /// <summary>Whether <c>If-Match</c> on PUT sends the ETag quoted (RFC 9110 form) or unquoted. Default: unquoted,
    /// the only form RadosGW 16 accepts.</summary>
    public bool QuoteIfMatchETag { get; set; }

    /// <summary>The most requests in flight at once (and HTTP connections). Default: 32.</summary>
    public int MaxConcurrentRequests { get; set; } = 32;

    /// <summary>How long one HTTP request may take before it counts as a transient failure. Default: 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The problems with these options, each naming its key under <paramref name="section"/>.</summary>
    public IEnumerable<string> Validate(string section)
    {
        if (string.IsNullOrWhiteSpace(Bucket))
        {
            yield return $"{section}:Bucket: required (the S3 bucket that holds the volumes)";
        }
        else if (Bucket.Length is < 3 or > 63 || Bucket.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-')))
        {
            yield return $"{section}:Bucket: '{Bucket}' is not a valid bucket name (3-63 characters: a-z, 0-9, '.', '-')";
        }

        if (ServiceUrl.Length > 0 && (!Uri.TryCreate(ServiceUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            yield return $"{section}:ServiceUrl: '{ServiceUrl}' is not an http(s) URL";
        }

        if (string.IsNullOrWhiteSpace(Region))
        {
            yield return $"{section}:Region: required (e.g. us-east-1)";
        }

        if (AccessKey.Length > 0 != SecretKey.Length > 0)
        {
            yield return $"{section}:{(AccessKey.Length > 0 ? "SecretKey" : "AccessKey")}: must be set together with {(AccessKey.Length > 0 ? "AccessKey" : "SecretKey")} (or leave both empty to use the AWS credential chain)";
        }

        if (Prefix.StartsWith('/'))
        {
            yield return $"{section}:Prefix: must not start with '/'";
        }

        if (MaxConcurrentRequests is < 1 or > 1024)
        {
            yield return $"{section}:MaxConcurrentRequests: {MaxConcurrentRequests} is outside 1..1024";
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            yield return $"{section}:RequestTimeout: must be positive";
        }
    }
}

/// <summary>When the AWS SDK computes and validates flexible checksums.</summary>
public enum S3ChecksumMode
{
    /// <summary>Only for operations that require one (works everywhere).</summary>
    WhenRequired,

    /// <summary>Whenever the operation supports one (AWS only).</summary>
    WhenSupported,
}
