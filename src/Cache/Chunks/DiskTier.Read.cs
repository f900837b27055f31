using System.Buffers;
using Microsoft.Win32.SafeHandles;
using S3Block.Cache.Integrity;

namespace S3Block.Cache.Chunks;

internal sealed partial class DiskTier
{
    /// <summary>
    /// Reads <paramref name="destination"/>.Length bytes of the image at <paramref name="offset"/>. Checks the header
    /// and the file length (and the data CRC when the range is the whole image). False when the file has vanished or
    /// is damaged (a damaged entry is deleted); never returns partial or unverified-header data.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range lies outside the image.</exception>
    public async ValueTask<bool> TryReadRangeAsync(
        ChunkKey key, DiskEntry entry, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        CheckRange(offset, destination.Length, entry.DataLength);
        using var file = TryOpen(entry);
        if (file is null)
        {
            return false;
        }

        try
        {
            var header = await TryReadHeaderAsync(file, key, entry, cancellationToken);
            if (header is not { } checkedHeader)
            {
                DropCorrupt(entry);
                return false;
            }

            if (!await TryReadExactlyAsync(file, destination, ChunkFileFormat.DataOffset + offset, cancellationToken)
                || (offset == 0 && destination.Length == checkedHeader.DataLength
                    && Crc32C.Compute(destination.Span) != checkedHeader.DataCrc))
            {
                DropCorrupt(entry);
                return false;
            }

            return true;
        }
        catch (IOException)
        {
            // EIO and the like: the entry cannot be trusted; S3 has the data.
            DropCorrupt(entry);
            return false;
        }
    }

    /// <summary>Reads and verifies (header, length and data CRC) the whole image into a new array; null as for
    /// <see cref="TryReadRangeAsync"/>.</summary>
    public async ValueTask<byte[]?> TryReadWholeAsync(ChunkKey key, DiskEntry entry, CancellationToken cancellationToken)
    {
        using var file = TryOpen(entry);
        if (file is null)
        {
            return null;
        }

        try
        {
            var header = await TryReadHeaderAsync(file, key, entry, cancellationToken);
            if (header is not { } checkedHeader)
            {
                DropCorrupt(entry);
                return null;
            }

            var image = GC.AllocateUninitializedArray<byte>(checked((int)checkedHeader.DataLength));
            if (!await TryReadExactlyAsync(file, image, ChunkFileFormat.DataOffset, cancellationToken)
                || Crc32C.Compute(image) != checkedHeader.DataCrc)
            {
                DropCorrupt(entry);
                return null;
            }

            return image;
        }
        catch (IOException)
        {
            DropCorrupt(entry);
            return null;
        }
    }

    private SafeFileHandle? TryOpen(DiskEntry entry)
    {
        try
        {
            return File.OpenHandle(EntryPath(entry.Digest), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            ForgetVanished(entry); // Usually a no-op: evicted between lookup and open.
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DropCorrupt(entry);
            return null;
        }
    }

    /// <summary>Reads the header's fixed fields and key, checks them against <paramref name="key"/>, the index and the
    /// file length; null when anything is off.</summary>
    private async ValueTask<(long DataLength, uint DataCrc)?> TryReadHeaderAsync(
        SafeFileHandle file, ChunkKey key, DiskEntry entry, CancellationToken cancellationToken)
    {
        var length = ChunkFileFormat.FixedSize + key.Utf8.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            if (!await TryReadExactlyAsync(file, buffer.AsMemory(0, length), 0, cancellationToken)
                || !ChunkFileFormat.TryReadHeader(buffer.AsSpan(0, length), key.Utf8, out var dataLength, out var dataCrc)
                || dataLength != entry.DataLength
                || RandomAccess.GetLength(file) != ChunkFileFormat.FileLength(dataLength))
            {
                return null;
            }

            return (dataLength, dataCrc);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="fileOffset"/>; false if the file ends first.</summary>
    private async ValueTask<bool> TryReadExactlyAsync(SafeFileHandle file, Memory<byte> buffer, long fileOffset, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            var read = await RandomAccess.ReadAsync(file, buffer, fileOffset, cancellationToken);
            if (read == 0)
            {
                return false;
            }

            Interlocked.Add(ref _counters.DiskBytesRead, read);
            buffer = buffer[read..];
            fileOffset += read;
        }

        return true;
    }

    internal static void CheckRange(long offset, int length, long dataLength)
    {
        if (offset < 0 || offset > dataLength - length)
        {
            throw new ArgumentOutOfRangeException(
                nameof(offset), $"The range [{offset}, {offset + length}) lies outside the {dataLength}-byte chunk image.");
        }
    }
}
