using System.Buffers;
using Microsoft.Win32.SafeHandles;
using S3Block.Cache.Integrity;

namespace S3Block.Cache.Chunks;

internal sealed partial class DiskTier
{
    /// <summary>
    /// Reads <paramref name="destination"/>.Length bytes of the image at <paramref name="offset"/>. Checks the header
    /// and the file length when it opens the file (which then stays open, see <see cref="OpenFileCache"/>), and the
    /// data CRC when the range is the whole image. False when the file has vanished, is short, or is damaged (a damaged
    /// entry is deleted); never returns partial or unverified-header data.
    /// </summary>
    /// <remarks>
    /// Reads with plain pread on the calling thread. .NET emulates asynchronous file reads on Linux by running that same
    /// pread on another thread-pool thread, so awaiting them only added two thread hops to every 4 KiB hit. Callers
    /// are never ublk queue threads (the volume completes off them).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The range lies outside the image.</exception>
    public ValueTask<bool> TryReadRangeAsync(
        ChunkKey key, DiskEntry entry, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        CheckRange(offset, destination.Length, entry.DataLength);
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(TryReadRange(key, entry, offset, destination.Span));
    }

    private bool TryReadRange(ChunkKey key, DiskEntry entry, long offset, Span<byte> destination)
    {
        if (_openFiles.TryGet(entry) is { } open)
        {
            try
            {
                return ReadChecked(open, offset, destination);
            }
            catch (ObjectDisposedException)
            {
                // Closed since we got it (the entry left the index, or the handle was the least recently used).
            }
            catch (IOException)
            {
                DropCorrupt(entry);
                return false;
            }
        }

        var file = TryOpen(entry);
        if (file is null)
        {
            return false;
        }

        var kept = false;
        try
        {
            if (TryReadHeader(file, key, entry) is not { } header)
            {
                DropCorrupt(entry);
                return false;
            }

            var opened = new OpenFile(entry, file, header.DataLength, header.DataCrc);
            if (!ReadChecked(opened, offset, destination))
            {
                return false;
            }

            kept = KeepOpen(opened);
            return true;
        }
        catch (IOException)
        {
            // EIO and the like: the entry cannot be trusted; S3 has the data.
            DropCorrupt(entry);
            return false;
        }
        finally
        {
            if (!kept)
            {
                file.Dispose();
            }
        }
    }

    /// <summary>Reads a range of an open entry file, checking the CRC when the range is the whole image; a short file or
    /// a CRC mismatch drops the entry.</summary>
    private bool ReadChecked(OpenFile file, long offset, Span<byte> destination)
    {
        if (!TryReadExactly(file.Handle, destination, ChunkFileFormat.DataOffset + offset)
            || (offset == 0 && destination.Length == file.DataLength && Crc32C.Compute(destination) != file.DataCrc))
        {
            DropCorrupt(file.Entry);
            return false;
        }

        return true;
    }

    /// <summary>Hands a checked handle to <see cref="_openFiles"/> if its entry is still indexed; false if it was not kept.</summary>
    private bool KeepOpen(OpenFile file)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(file.Entry.Digest, out var current) || !ReferenceEquals(current, file.Entry))
            {
                return false; // Evicted or removed while we read: its file must not stay open.
            }

            _openFiles.Add(file);
            return true;
        }
    }

    /// <summary>Reads and verifies (header, length and data CRC) the whole image into a new array; null as for
    /// <see cref="TryReadRangeAsync"/> (and read the same way).</summary>
    public ValueTask<byte[]?> TryReadWholeAsync(ChunkKey key, DiskEntry entry, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(TryReadWhole(key, entry));
    }

    private byte[]? TryReadWhole(ChunkKey key, DiskEntry entry)
    {
        using var file = TryOpen(entry);
        if (file is null)
        {
            return null;
        }

        try
        {
            var header = TryReadHeader(file, key, entry);
            if (header is not { } checkedHeader)
            {
                DropCorrupt(entry);
                return null;
            }

            var image = GC.AllocateUninitializedArray<byte>(checked((int)checkedHeader.DataLength));
            if (!TryReadExactly(file, image, ChunkFileFormat.DataOffset)
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
    private (long DataLength, uint DataCrc)? TryReadHeader(SafeFileHandle file, ChunkKey key, DiskEntry entry)
    {
        var length = ChunkFileFormat.FixedSize + key.Utf8.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            if (!TryReadExactly(file, buffer.AsSpan(0, length), 0)
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
    private bool TryReadExactly(SafeFileHandle file, Span<byte> buffer, long fileOffset)
    {
        while (!buffer.IsEmpty)
        {
            var read = RandomAccess.Read(file, buffer, fileOffset);
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
