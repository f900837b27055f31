using System.Buffers.Binary;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace S3Block.ObjectStore.Local;

/// <summary>
/// The on-disk form of one object: a 32-byte header, then the content.
/// </summary>
/// <remarks>
/// Header, little-endian: magic "S3BLKOBJ" (8 bytes) · format version u32 (1) · reserved u32 (0) · MD5 of the
/// content (16 bytes), which is the object's ETag, as S3 reports for single-part uploads. Keeping the ETag in the
/// header makes HEAD and conditional writes cost one small read, not a hash of the whole object.
/// A file is written once under a temporary name and renamed into place; it is never modified afterwards, so
/// readers need no locks.
/// </remarks>
internal static class LocalObjectFile
{
    public const int HeaderSize = 32;
    private const uint Version = 1;
    private static ReadOnlySpan<byte> Magic => "S3BLKOBJ"u8;

    /// <summary>Writes header and content to a new file and fsyncs it; returns the ETag.</summary>
    public static string Write(string path, ReadOnlySpan<byte> content)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);
#pragma warning disable CA5351 // MD5 is S3's ETag for single-part objects: an identity, not a security measure.
        MD5.HashData(content, header[16..]);
#pragma warning restore CA5351

        using var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, HeaderSize + content.Length);
        RandomAccess.Write(file, header, 0);
        RandomAccess.Write(file, content, HeaderSize);
        S3Block.Cache.Platform.FileDurability.DataSync(file);
        return Convert.ToHexStringLower(header[16..]);
    }

    /// <summary>Reads the ETag and content size; throws <see cref="InvalidDataException"/> for a foreign file.</summary>
    public static (string ETag, long Size) ReadHeader(SafeFileHandle file, string path)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        var length = RandomAccess.GetLength(file);
        if (length < HeaderSize || RandomAccess.Read(file, header, 0) != HeaderSize || !header[..8].SequenceEqual(Magic)
            || BinaryPrimitives.ReadUInt32LittleEndian(header[8..]) != Version)
        {
            throw new InvalidDataException($"'{path}' is not an object file of this store (bad header)");
        }

        return (Convert.ToHexStringLower(header[16..]), length - HeaderSize);
    }

    /// <summary>Reads <paramref name="destination"/>.Length content bytes starting at content offset <paramref name="offset"/>.</summary>
    public static void ReadContent(SafeFileHandle file, long offset, Span<byte> destination)
    {
        var done = 0;
        while (done < destination.Length)
        {
            var n = RandomAccess.Read(file, destination[done..], HeaderSize + offset + done);
            if (n == 0)
            {
                throw new EndOfStreamException("object file shorter than its header says");
            }

            done += n;
        }
    }
}
