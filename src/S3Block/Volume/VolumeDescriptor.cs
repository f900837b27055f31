using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace S3Block.Volume;

/// <summary>What never changes about a volume; stored once as <c>volume.json</c>.</summary>
public sealed record VolumeDescriptor
{
    public const int CurrentFormatVersion = 1;
    public const int MinChunkSize = 64 * 1024;
    public const int MaxChunkSize = 32 * 1024 * 1024;
    public const int DefaultChunkSize = 4 * 1024 * 1024;

    public required int FormatVersion { get; init; }

    public required Guid VolumeId { get; init; }

    public required string Name { get; init; }

    public required long SizeBytes { get; init; }

    public required int ChunkSizeBytes { get; init; }

    public required int LogicalBlockSize { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    [JsonIgnore]
    public long ChunkCount => (SizeBytes + ChunkSizeBytes - 1) / ChunkSizeBytes;

    /// <summary>The length of chunk <paramref name="index"/>: the chunk size, or less for the last chunk.</summary>
    public int ChunkLength(long index) => (int)Math.Min(ChunkSizeBytes, SizeBytes - (index * ChunkSizeBytes));

    public static VolumeDescriptor CreateNew(string name, long sizeBytes, int chunkSizeBytes = DefaultChunkSize, int logicalBlockSize = 4096)
    {
        var descriptor = new VolumeDescriptor
        {
            FormatVersion = CurrentFormatVersion,
            VolumeId = Guid.NewGuid(),
            Name = name,
            SizeBytes = sizeBytes,
            ChunkSizeBytes = chunkSizeBytes,
            LogicalBlockSize = logicalBlockSize,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        var problem = descriptor.Validate().FirstOrDefault();
        return problem is null ? descriptor : throw new ArgumentException(problem);
    }

    /// <summary>What is wrong with these values, if anything.</summary>
    public IEnumerable<string> Validate()
    {
        if (FormatVersion != CurrentFormatVersion)
        {
            yield return $"format version {FormatVersion} is not supported (this build reads {CurrentFormatVersion})";
        }

        if (!VolumeKeys.IsValidName(Name))
        {
            yield return $"name '{Name}' is not a valid volume name";
        }

        if (LogicalBlockSize is not (512 or 4096))
        {
            yield return $"logical block size {LogicalBlockSize} must be 512 or 4096";
        }

        if (ChunkSizeBytes is < MinChunkSize or > MaxChunkSize || !BitOperations.IsPow2(ChunkSizeBytes))
        {
            yield return $"chunk size {ChunkSizeBytes} must be a power of two from {MinChunkSize} to {MaxChunkSize} bytes";
        }

        if (SizeBytes <= 0 || SizeBytes % Math.Max(LogicalBlockSize, 1) != 0)
        {
            yield return $"size {SizeBytes} must be a positive multiple of the logical block size {LogicalBlockSize}";
        }
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, VolumeJsonContext.Default.VolumeDescriptor);

    public static VolumeDescriptor FromJson(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, VolumeJsonContext.Default.VolumeDescriptor)
        ?? throw new InvalidDataException("volume.json is empty");
}
