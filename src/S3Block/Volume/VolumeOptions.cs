namespace S3Block.Volume;

/// <summary>How a volume writes back and protects itself. Bound from the <c>Volume</c> configuration section.</summary>
public sealed class VolumeOptions
{
    public const string Section = "Volume";

    /// <summary>What FLUSH waits for: <see cref="FlushMode.Journal"/> (default: fdatasync of the local journal) or
    /// <see cref="FlushMode.Remote"/> (also a commit in S3).</summary>
    public FlushMode FlushMode { get; set; } = FlushMode.Journal;

    /// <summary>Longest time journaled data waits before an upload starts (the normal data-loss window if the local
    /// disk dies). Default: 5 s.</summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Dirty bytes that start an upload at once. Default: 64 MiB.</summary>
    public long CommitThresholdBytes { get; set; } = 64L << 20;

    /// <summary>Chunk uploads in flight at once (each holds one chunk image in memory). Default: 8.</summary>
    public int MaxUploadsInFlight { get; set; } = 8;

    /// <summary>Chunk uploads that keep running while a read (or a read-ahead) waits for S3 and for 1 s after: write-back
    /// yields to readers, the other uploads start after that. At least 1, so write-back never stops; but a steady stream
    /// of cold reads keeps it at this many uploads (the journal fills faster then). Default: 1.</summary>
    public int UploadsWhileReading { get; set; } = 1;

    /// <summary>Chunk fetches for reads in flight at once; separate from uploads so reads never queue behind
    /// write-back. Default: 16.</summary>
    public int MaxFetchesInFlight { get; set; } = 16;

    /// <summary>Chunks fetched ahead of a sequential reader, in flight at once, on slots of their own (foreground reads
    /// never wait for them); 0 turns read-ahead off. Each holds one chunk image in memory while it lasts. Default: 4.</summary>
    public int ReadAheadChunks { get; set; } = 4;

    /// <summary>How long a read of data that is only in S3 keeps retrying during an outage before it fails with
    /// EIO. Default: 5 min. Filesystems take EIO on metadata for damage (ext4 remounts read-only), so keep it longer
    /// than the outages the volume should ride out; the reader just waits meanwhile.</summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A full checkpoint every this many commits. Default: 64.</summary>
    public int CheckpointEvery { get; set; } = 64;

    /// <summary>How long a superseded chunk version outlives the checkpoint that dropped it. Default: 60 s.</summary>
    public TimeSpan GarbageDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the lease lasts without renewal; renewed every third of it. Default: 30 s.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long past a lease's recorded expiry another node still treats it as held: the allowance for clock
    /// skew between nodes, whose clocks must differ by less than this (docs/volume-format.md, "Clocks"). Default: 10 s.</summary>
    public TimeSpan LeaseExpiryMargin { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Backoff cap for retrying uploads and commits, which retry forever. Default: 30 s.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<string> Validate(string section = Section)
    {
        if (CommitInterval <= TimeSpan.Zero)
        {
            yield return $"{section}:CommitInterval: must be positive";
        }

        if (CommitThresholdBytes <= 0)
        {
            yield return $"{section}:CommitThresholdBytes: must be positive";
        }

        if (MaxUploadsInFlight is < 1 or > 256)
        {
            yield return $"{section}:MaxUploadsInFlight: {MaxUploadsInFlight} is outside 1..256";
        }

        if (UploadsWhileReading < 1 || UploadsWhileReading > MaxUploadsInFlight)
        {
            yield return $"{section}:UploadsWhileReading: {UploadsWhileReading} is outside 1..{section}:MaxUploadsInFlight ({MaxUploadsInFlight})";
        }

        if (MaxFetchesInFlight is < 1 or > 256)
        {
            yield return $"{section}:MaxFetchesInFlight: {MaxFetchesInFlight} is outside 1..256";
        }

        if (ReadAheadChunks is < 0 or > 64)
        {
            yield return $"{section}:ReadAheadChunks: {ReadAheadChunks} is outside 0..64";
        }

        if (ReadTimeout <= TimeSpan.Zero)
        {
            yield return $"{section}:ReadTimeout: must be positive";
        }

        if (CheckpointEvery < 1)
        {
            yield return $"{section}:CheckpointEvery: must be at least 1";
        }

        if (GarbageDelay < TimeSpan.Zero)
        {
            yield return $"{section}:GarbageDelay: must not be negative";
        }

        if (LeaseTtl < TimeSpan.FromSeconds(3))
        {
            yield return $"{section}:LeaseTtl: must be at least 3 s";
        }

        if (LeaseExpiryMargin < TimeSpan.Zero)
        {
            yield return $"{section}:LeaseExpiryMargin: must not be negative";
        }

        if (MaxRetryDelay <= TimeSpan.Zero)
        {
            yield return $"{section}:MaxRetryDelay: must be positive";
        }
    }
}

/// <summary>What a FLUSH (and a FUA write) waits for.</summary>
public enum FlushMode
{
    /// <summary>Durable in the local journal (fdatasync).</summary>
    Journal,

    /// <summary>Durable in S3 (a commit covers it).</summary>
    Remote,
}
