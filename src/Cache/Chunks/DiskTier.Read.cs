using System.Buffers;
using Microsoft.Win32.SafeHandles;
using S3Block.Cache.Integrity;

namespace S3Block.Cache.Chunks;

internal sealed partial class DiskTier
{
    /// <summary>
    /// Reads <paramref name="destination"/>.Length bytes of the image at <paramref name="offset"/>. Checks the header,
    /// the file length and the block checksum table when it opens the file (which then stays open, see
    /// <see cref="OpenFileCache"/>), the key on every hit, and the checksum of every block the range touches. False
    /// when the file has vanished, is short, or is damaged (a damaged entry is deleted); never returns partial or
    /// unverified data.
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
                if (!open.KeyUtf8.AsSpan().SequenceEqual(key.Utf8))
                {
                    // Another key hashing to the same name (odds ~2^-64): not ours, and not damaged either.
                    return false;
                }

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

            if (TryReadTable(file, header) is not { } blockCrcs)
            {
                DropCorrupt(entry, checksumMismatch: true);
                return false;
            }

            var opened = new OpenFile(entry, file, key.Utf8, header.DataLength, blockCrcs);
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

    /// <summary>
    /// Reads a range of an open entry file and checks the CRC of every block it touches. Whole blocks are read straight
    /// into <paramref name="destination"/>; a block the range covers only in part (an unaligned start or end) is read
    /// whole into a scratch buffer, checked, and the part copied. A short file or a mismatch drops the entry.
    /// </summary>
    private bool ReadChecked(OpenFile file, long offset, Span<byte> destination)
    {
        const int B = ChunkFileFormat.BlockSize;
        var end = offset + destination.Length;
        var position = offset;
        while (position < end)
        {
            var block = position / B;
            var blockStart = block * B;
            var blockEnd = Math.Min(blockStart + B, file.DataLength);
            if (position == blockStart && blockEnd <= end)
            {
                // As many whole blocks as the range holds (up to its end, or the image's shorter last block).
                var wholeEnd = end == file.DataLength ? end : end / B * B;
                var span = destination.Slice((int)(position - offset), (int)(wholeEnd - position));
                if (!TryReadExactly(file.Handle, span, ChunkFileFormat.DataOffset + position))
                {
                    DropCorrupt(file.Entry);
                    return false;
                }

                for (var at = 0; at < span.Length; at += B)
                {
                    if (Crc32C.Compute(span.Slice(at, Math.Min(B, span.Length - at))) != file.BlockCrcs[block + (at / B)])
                    {
                        DropCorrupt(file.Entry, checksumMismatch: true);
                        return false;
                    }
                }

                position = wholeEnd;
            }
            else
            {
                var partEnd = Math.Min(end, blockEnd);
                if (!ReadPartOfBlockChecked(file, block, position, destination.Slice((int)(position - offset), (int)(partEnd - position))))
                {
                    return false;
                }

                position = partEnd;
            }
        }

        return true;
    }

    /// <summary>Reads block <paramref name="block"/> whole into a scratch buffer, checks its CRC, and copies the part
    /// from <paramref name="position"/> into <paramref name="destination"/>. A method of its own so that the aligned
    /// path (the common one) does not pay for clearing the scratch buffer.</summary>
    private bool ReadPartOfBlockChecked(OpenFile file, long block, long position, Span<byte> destination)
    {
        var blockStart = block * ChunkFileFormat.BlockSize;
        Span<byte> whole = stackalloc byte[ChunkFileFormat.BlockSize];
        whole = whole[..(int)(Math.Min(blockStart + ChunkFileFormat.BlockSize, file.DataLength) - blockStart)];
        if (!TryReadExactly(file.Handle, whole, ChunkFileFormat.DataOffset + blockStart))
        {
            DropCorrupt(file.Entry);
            return false;
        }

        if (Crc32C.Compute(whole) != file.BlockCrcs[block])
        {
            DropCorrupt(file.Entry, checksumMismatch: true);
            return false;
        }

        whole.Slice((int)(position - blockStart), destination.Length).CopyTo(destination);
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
        return ValueTask.FromResult(TryReadWhole(key, entry, pooled: false));
    }

    /// <summary>As <see cref="TryReadWholeAsync"/>, into a buffer from <see cref="ChunkBufferPool"/> (its first
    /// <see cref="DiskEntry.DataLength"/> bytes the image) that the caller returns or hands on.</summary>
    public ValueTask<byte[]?> TryReadWholePooledAsync(ChunkKey key, DiskEntry entry, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(TryReadWhole(key, entry, pooled: true));
    }

    private byte[]? TryReadWhole(ChunkKey key, DiskEntry entry, bool pooled)
    {
        using var file = TryOpen(entry);
        if (file is null)
        {
            return null;
        }

        byte[]? buffer = null;
        try
        {
            var header = TryReadHeader(file, key, entry);
            if (header is not { } checkedHeader)
            {
                DropCorrupt(entry);
                return null;
            }

            var length = checked((int)checkedHeader.DataLength);
            buffer = pooled ? ChunkBufferPool.Rent(length) : GC.AllocateUninitializedArray<byte>(length);
            var image = buffer.AsSpan(0, length);
            if (!TryReadExactly(file, image, ChunkFileFormat.DataOffset))
            {
                DropCorrupt(entry);
                return null;
            }

            if (Crc32C.Compute(image) != checkedHeader.DataCrc)
            {
                DropCorrupt(entry, checksumMismatch: true);
                return null;
            }

            var whole = buffer;
            buffer = null;
            return whole;
        }
        catch (IOException)
        {
            DropCorrupt(entry);
            return null;
        }
        finally
        {
            if (pooled && buffer is not null)
            {
                ChunkBufferPool.Return(buffer);
            }
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
    private ChunkFileFormat.HeaderFields? TryReadHeader(SafeFileHandle file, ChunkKey key, DiskEntry entry)
    {
        var length = ChunkFileFormat.FixedSize + key.Utf8.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            if (!TryReadExactly(file, buffer.AsSpan(0, length), 0)
                || !ChunkFileFormat.TryReadHeader(buffer.AsSpan(0, length), key.Utf8, out var fields)
                || fields.DataLength != entry.DataLength
                || RandomAccess.GetLength(file) != ChunkFileFormat.FileLength(fields.DataLength))
            {
                return null;
            }

            return fields;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads the block checksum table and checks it against the header's CRC of it; null when it does not verify.</summary>
    private uint[]? TryReadTable(SafeFileHandle file, ChunkFileFormat.HeaderFields header)
    {
        var length = ChunkFileFormat.TableLength(header.DataLength);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var table = buffer.AsSpan(0, length);
            return TryReadExactly(file, table, ChunkFileFormat.TableOffset(header.DataLength))
                ? ChunkFileFormat.TryReadTable(table, header.TableCrc)
                : null;
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
