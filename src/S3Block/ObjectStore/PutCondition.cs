namespace S3Block.ObjectStore;

/// <summary>When a PUT may take effect.</summary>
public readonly record struct PutCondition
{
    private PutCondition(PutConditionKind kind, string? etag)
    {
        Kind = kind;
        ETag = etag;
    }

    /// <summary>Always: overwrite whatever is there.</summary>
    public static PutCondition None => default;

    /// <summary>Only if no object has the key (<c>If-None-Match: *</c>): exactly one of many racers wins.</summary>
    public static PutCondition CreateOnly => new(PutConditionKind.CreateOnly, null);

    /// <summary>Only if the current object has this ETag (<c>If-Match</c>): compare-and-swap.</summary>
    public static PutCondition IfMatch(string etag)
    {
        ArgumentException.ThrowIfNullOrEmpty(etag);
        return new(PutConditionKind.IfMatch, etag.Trim('"'));
    }

    public PutConditionKind Kind { get; }

    /// <summary>The unquoted ETag for <see cref="PutConditionKind.IfMatch"/>.</summary>
    public string? ETag { get; }

    public override string ToString() => Kind switch
    {
        PutConditionKind.CreateOnly => "If-None-Match: *",
        PutConditionKind.IfMatch => $"If-Match: {ETag}",
        _ => "unconditional",
    };
}

/// <summary>The kinds of <see cref="PutCondition"/>.</summary>
public enum PutConditionKind
{
    None,
    CreateOnly,
    IfMatch,
}
