using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace S3Block.Cache.Chunks;

/// <summary>
/// A chunk's cache key (the volume's id and the chunk's object key, e.g.
/// <c>6f1c...e2/vol1/chunks/00000000000003a1/00000002-00000000000000000017</c>) with what the
/// cache derives from it: its UTF-8 bytes (stored in the entry header and compared on every disk read) and a 128-bit
/// digest that names the entry's file.
/// </summary>
/// <remarks>
/// The digest is the first 16 bytes of SHA-256 of the UTF-8 key. The key itself never becomes part of a path, so
/// <c>/</c>, <c>..</c>, NUL or any Unicode cannot escape the cache folder. 128 bits keep the in-memory index small;
/// a collision (odds around 2^-64 even with 2^32 entries) could only cause misses, never wrong data, because every
/// read compares the full key stored in the header.
/// </remarks>
internal readonly struct ChunkKey
{
    /// <summary>The longest key in UTF-8 bytes: the S3 limit for object keys.</summary>
    public const int MaxUtf8Bytes = 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private ChunkKey(string text, byte[] utf8, UInt128 digest)
    {
        Text = text;
        Utf8 = utf8;
        Digest = digest;
    }

    public string Text { get; }

    public byte[] Utf8 { get; }

    public UInt128 Digest { get; }

    /// <summary>Validates <paramref name="key"/> and derives its bytes and digest.</summary>
    /// <exception cref="ArgumentException">The key is empty, longer than 1024 UTF-8 bytes, or not valid UTF-16.</exception>
    public static ChunkKey From(string key, string? paramName = "key")
    {
        ArgumentException.ThrowIfNullOrEmpty(key, paramName);
        byte[] utf8;
        try
        {
            utf8 = StrictUtf8.GetBytes(key);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("The key is not valid Unicode (lone surrogate).", paramName, e);
        }

        if (utf8.Length > MaxUtf8Bytes)
        {
            throw new ArgumentException($"The key is {utf8.Length} UTF-8 bytes; at most {MaxUtf8Bytes} are allowed.", paramName);
        }

        return new ChunkKey(key, utf8, DigestOf(utf8));
    }

    /// <summary>The first 16 bytes of SHA-256 of <paramref name="utf8"/>, big-endian, so its hex form is the hash's prefix.</summary>
    public static UInt128 DigestOf(ReadOnlySpan<byte> utf8)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8, hash);
        return BinaryPrimitives.ReadUInt128BigEndian(hash);
    }
}
