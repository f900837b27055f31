using System.Text;

namespace S3Block.ObjectStore.Local;

/// <summary>
/// Maps object keys to paths under a root folder and back, so that no key can name a path outside the root.
/// </summary>
/// <remarks>
/// <para>A key is split at '/'; every segment is percent-encoded so that only <c>[A-Za-z0-9_-]</c> stay literal (in
/// particular '.', so ".." and "." can never appear as path segments). Folder segments get the suffix
/// <c>.d</c>, which no encoded name contains, so the key <c>a</c> (a file) and the prefix <c>a/</c> (a folder) never
/// collide. Keys are rejected when empty, longer than S3's 1024 bytes, or when they contain an empty segment
/// (a leading '/', a trailing '/', or "//"): such keys would not round-trip through a file system.</para>
/// </remarks>
internal static class LocalKeyPath
{
    private const string FolderSuffix = ".d";
    private const int MaxKeyBytes = 1024;
    private const int MaxNameBytes = 250; // file systems allow 255; keep room for the suffix

    /// <summary>The file that holds <paramref name="key"/>, relative to the root.</summary>
    public static string ToRelativePath(string key)
    {
        var segments = Split(key);
        var parts = new string[segments.Length];
        for (var i = 0; i < segments.Length; i++)
        {
            var encoded = Encode(segments[i]);
            parts[i] = i == segments.Length - 1 ? encoded : encoded + FolderSuffix;
        }

        return Path.Combine(parts);
    }

    /// <summary>The folder that holds every key starting with the complete segments of <paramref name="prefix"/>.</summary>
    public static string PrefixFolder(string prefix)
    {
        var lastSlash = prefix.LastIndexOf('/');
        if (lastSlash < 0)
        {
            return "";
        }

        return Path.Combine(Split(prefix[..lastSlash]).Select(s => Encode(s) + FolderSuffix).ToArray());
    }

    /// <summary>The key stored at a relative file path; null for paths this mapping never produces.</summary>
    public static string? ToKey(string relativePath)
    {
        var parts = relativePath.Split(Path.DirectorySeparatorChar);
        var segments = new string[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (i < parts.Length - 1)
            {
                if (!part.EndsWith(FolderSuffix, StringComparison.Ordinal))
                {
                    return null;
                }

                part = part[..^FolderSuffix.Length];
            }

            var decoded = TryDecode(part);
            if (decoded is null)
            {
                return null;
            }

            segments[i] = decoded;
        }

        return string.Join('/', segments);
    }

    /// <summary>True when a folder or file name is one this mapping produces (not a temp file or lock).</summary>
    public static bool IsFolderName(string name) => name.EndsWith(FolderSuffix, StringComparison.Ordinal);

    private static string[] Split(string key)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw InvalidKey(key, "it is empty");
        }

        if (Encoding.UTF8.GetByteCount(key) > MaxKeyBytes)
        {
            throw InvalidKey(key, $"it is longer than {MaxKeyBytes} bytes");
        }

        var segments = key.Split('/');
        if (segments.Any(s => s.Length == 0))
        {
            throw InvalidKey(key, "it has an empty segment (a leading or trailing '/', or '//')");
        }

        return segments;
    }

    private static string Encode(string segment)
    {
        var builder = new StringBuilder(segment.Length);
        foreach (var b in Encoding.UTF8.GetBytes(segment))
        {
            if (IsLiteral(b))
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2"));
            }
        }

        if (Encoding.UTF8.GetByteCount(builder.ToString()) > MaxNameBytes)
        {
            throw InvalidKey(segment, $"a segment encodes to more than {MaxNameBytes} bytes");
        }

        return builder.ToString();
    }

    private static string? TryDecode(string name)
    {
        var bytes = new List<byte>(name.Length);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (c == '%' && i + 2 < name.Length
                && byte.TryParse(name.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else if (c < 128 && IsLiteral((byte)c))
            {
                bytes.Add((byte)c);
            }
            else
            {
                return null;
            }
        }

        return bytes.Count == 0 ? null : Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsLiteral(byte b) =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'_' or (byte)'-';

    private static ObjectStoreException InvalidKey(string key, string reason) =>
        new(ObjectStoreErrorKind.Permanent, "KEY", key, $"the local store cannot hold this key: {reason}")
        {
            ErrorCode = "InvalidKey",
        };
}
