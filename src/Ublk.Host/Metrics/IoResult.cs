namespace S3Block.Ublk.Metrics;

/// <summary>How a block I/O request ended, the <c>result</c> label of <c>s3block_io_*</c>.</summary>
public enum IoResult
{
    /// <summary><c>result="ok"</c>: completed successfully.</summary>
    Ok,

    /// <summary><c>result="error"</c>: the backend failed it (completed with a negative errno).</summary>
    Error,

    /// <summary><c>result="rejected"</c>: refused before reaching the backend (out of range, too large, unknown).</summary>
    Rejected,
}

/// <summary>Label values of <see cref="IoResult"/>.</summary>
public static class IoResultLabels
{
    /// <summary>Every result, in enum order.</summary>
    public static IReadOnlyList<IoResult> All { get; } = Enum.GetValues<IoResult>();

    /// <summary>The <c>result</c> label value.</summary>
    public static string ToLabel(this IoResult result) => result switch
    {
        IoResult.Ok => "ok",
        IoResult.Error => "error",
        IoResult.Rejected => "rejected",
        _ => throw new ArgumentOutOfRangeException(nameof(result), result, null),
    };
}
