namespace S3Block.ObjectStore;

/// <summary>A byte range of an object: <see cref="Length"/> bytes starting at <see cref="Offset"/>.</summary>
public readonly record struct ByteRange
{
    public ByteRange(long offset, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        Offset = offset;
        Length = length;
    }

    public long Offset { get; }

    public long Length { get; }

    /// <summary>The last byte's offset, inclusive, as HTTP ranges count.</summary>
    public long LastInclusive => Offset + Length - 1;
}
