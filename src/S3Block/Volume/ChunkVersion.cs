namespace S3Block.Volume;

/// <summary>
/// Which upload of a chunk is current: the writer epoch and the commit that introduced it. Together they name the
/// chunk's immutable object. <see cref="Zero"/> means the chunk has no object and reads as zeros.
/// </summary>
public readonly record struct ChunkVersion(long Epoch, long Commit)
{
    public static ChunkVersion Zero => default;

    public bool IsZero => Epoch == 0 && Commit == 0;

    public override string ToString() => IsZero ? "zero" : $"e{Epoch}-c{Commit}";
}
