using System.Globalization;

namespace S3Block.Volume;

/// <summary>The object keys of one volume (docs/volume-format.md, "Keys").</summary>
public sealed class VolumeKeys
{
    private const int MaxNameLength = 63;

    public VolumeKeys(string volumeName)
    {
        if (!IsValidName(volumeName))
        {
            throw new ArgumentException(
                $"'{volumeName}' is not a valid volume name (1-{MaxNameLength} characters: a-z, 0-9, '-', '_', starting with a letter or digit)",
                nameof(volumeName));
        }

        Name = volumeName;
    }

    public string Name { get; }

    public string Descriptor => $"{Name}/volume.json";

    public string Lease => $"{Name}/lease";

    public string CommitsPrefix => $"{Name}/commits/";

    public string CheckpointsPrefix => $"{Name}/checkpoints/";

    public string ChunksPrefix => $"{Name}/chunks/";

    public string Commit(long commitNumber) => CommitsPrefix + commitNumber.ToString("D20", CultureInfo.InvariantCulture);

    public string Checkpoint(long commitNumber) => CheckpointsPrefix + commitNumber.ToString("D20", CultureInfo.InvariantCulture);

    public string Chunk(long chunkIndex, ChunkVersion version) =>
        $"{ChunksPrefix}{chunkIndex:x16}/{version.Epoch:x8}-{version.Commit.ToString("D20", CultureInfo.InvariantCulture)}";

    /// <summary>The commit number in a commit or checkpoint key, or null for other keys.</summary>
    public static long? NumberFromKey(string key)
    {
        var slash = key.LastIndexOf('/');
        var tail = key.AsSpan(slash + 1);
        return tail.Length == 20 && long.TryParse(tail, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    /// <summary>The chunk index and version in a chunk key, or null for other keys.</summary>
    public bool TryParseChunk(string key, out long chunkIndex, out ChunkVersion version)
    {
        chunkIndex = 0;
        version = default;
        if (!key.StartsWith(ChunksPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key.AsSpan(ChunksPrefix.Length);
        // "<16 hex>/<8 hex>-<20 digits>"
        if (rest.Length != 16 + 1 + 8 + 1 + 20 || rest[16] != '/' || rest[25] != '-'
            || !long.TryParse(rest[..16], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out chunkIndex)
            || !long.TryParse(rest[17..25], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var epoch)
            || !long.TryParse(rest[26..], NumberStyles.None, CultureInfo.InvariantCulture, out var commit))
        {
            return false;
        }

        version = new ChunkVersion(epoch, commit);
        return true;
    }

    public static bool IsValidName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxNameLength && char.IsAsciiLetterOrDigit(name[0])
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_');
}
