namespace S3Block.Ublk.Metrics;

/// <summary>A block I/O operation, the <c>op</c> label of <c>s3block_io_*</c>.</summary>
public enum BlockOp
{
    /// <summary><c>op="read"</c>.</summary>
    Read,

    /// <summary><c>op="write"</c> (FUA writes included).</summary>
    Write,

    /// <summary><c>op="flush"</c>.</summary>
    Flush,

    /// <summary><c>op="discard"</c>.</summary>
    Discard,

    /// <summary><c>op="write_zeroes"</c>.</summary>
    WriteZeroes,
}

/// <summary>Label values of <see cref="BlockOp"/>.</summary>
public static class BlockOpLabels
{
    /// <summary>Every operation, in enum order.</summary>
    public static IReadOnlyList<BlockOp> All { get; } = Enum.GetValues<BlockOp>();

    /// <summary>The <c>op</c> label value.</summary>
    public static string ToLabel(this BlockOp op) => op switch
    {
        BlockOp.Read => "read",
        BlockOp.Write => "write",
        BlockOp.Flush => "flush",
        BlockOp.Discard => "discard",
        BlockOp.WriteZeroes => "write_zeroes",
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };
}
