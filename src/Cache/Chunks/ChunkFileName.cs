using System.Buffers.Binary;

namespace S3Block.Cache.Chunks;

/// <summary>
/// Where an entry lives under the cache folder: <c>{folder}/{hh}/{32 hex digits}.chunk</c>, where the 32 lowercase hex
/// digits are the key's <see cref="ChunkKey.Digest"/> and <c>hh</c> are its first two (256 shard folders, so no
/// folder grows huge). An entry is written first as <c>{32 hex}.{random}.tmp</c> in the same shard and renamed.
/// </summary>
/// <remarks>Only names of exactly these shapes are ever created, opened or deleted; anything else in the folder is
/// left alone, so pointing the cache at a wrong folder cannot destroy unrelated files.</remarks>
internal static class ChunkFileName
{
    public const string EntryExtension = ".chunk";
    public const string TempExtension = ".tmp";
    private const int DigestHexLength = 32;

    public static string Hex(UInt128 digest)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, digest);
        return Convert.ToHexStringLower(bytes);
    }

    public static string EntryPath(string folder, UInt128 digest)
    {
        var hex = Hex(digest);
        return $"{folder}/{hex.AsSpan(0, 2)}/{hex}{EntryExtension}";
    }

    public static string NewTempPath(string folder, UInt128 digest)
    {
        var hex = Hex(digest);
        return $"{folder}/{hex.AsSpan(0, 2)}/{hex}.{Guid.NewGuid():N}{TempExtension}";
    }

    /// <summary>True for the 256 shard folder names <c>00</c>..<c>ff</c>.</summary>
    public static bool IsShardName(string name) => name.Length == 2 && IsLowerHex(name);

    /// <summary>Parses an entry file name in shard <paramref name="shard"/>; false for anything else.</summary>
    public static bool TryParseEntryName(string shard, string fileName, out UInt128 digest)
    {
        digest = default;
        if (fileName.Length != DigestHexLength + EntryExtension.Length
            || !fileName.EndsWith(EntryExtension, StringComparison.Ordinal)
            || !fileName.StartsWith(shard, StringComparison.Ordinal))
        {
            return false;
        }

        return TryParseHex(fileName.AsSpan(0, DigestHexLength), out digest);
    }

    /// <summary>True for a temp file this cache creates (<c>{32 hex}.{anything}.tmp</c>) in shard <paramref name="shard"/>.</summary>
    public static bool IsTempName(string shard, string fileName) =>
        fileName.Length > DigestHexLength + 1 + TempExtension.Length
        && fileName.EndsWith(TempExtension, StringComparison.Ordinal)
        && fileName[DigestHexLength] == '.'
        && fileName.StartsWith(shard, StringComparison.Ordinal)
        && IsLowerHex(fileName.AsSpan(0, DigestHexLength));

    private static bool TryParseHex(ReadOnlySpan<char> hex, out UInt128 digest)
    {
        digest = default;
        if (!IsLowerHex(hex))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != 16)
        {
            return false;
        }

        digest = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return true;
    }

    private static bool IsLowerHex(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }
}
