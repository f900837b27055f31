using System.Buffers;
using S3Block.Cache.Integrity;

namespace S3Block.Cache.Chunks;

internal sealed partial class DiskTier
{
    /// <summary>
    /// Stores <paramref name="image"/> under <paramref name="key"/> unless it is already stored. True when the entry is
    /// on disk afterwards; false when it could not be stored (no room next to the puts in flight, or an I/O error,
    /// both counted). A concurrent put of the same key waits for the first one instead of writing again.
    /// </summary>
    public async ValueTask<bool> PutAsync(ChunkKey key, ReadOnlyMemory<byte> image, CancellationToken cancellationToken)
    {
        var fileLength = ChunkFileFormat.FileLength(image.Length);
        TaskCompletionSource written;
        while (true)
        {
            Task? earlier;
            lock (_lock)
            {
                if (_entries.TryGetValue(key.Digest, out var existing))
                {
                    MoveToMostRecentLocked(existing);
                    return true;
                }

                if (!_writesInFlight.TryGetValue(key.Digest, out earlier))
                {
                    if (!TryReserveLocked(fileLength))
                    {
                        Interlocked.Increment(ref _counters.DiskPutsSkipped);
                        return false;
                    }

                    written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _writesInFlight.Add(key.Digest, written.Task);
                    break;
                }
            }

            // Same key, same bytes: wait for that put, then look again (it may have failed).
            await earlier.WaitAsync(cancellationToken);
        }

        var committed = false;
        var tempPath = ChunkFileName.NewTempPath(_folder, key.Digest);
        try
        {
            await WriteFileAsync(tempPath, key, image, cancellationToken);
            lock (_lock)
            {
                // Rename under the lock, so that publishing the file and indexing it are one step for evictions.
                File.Move(tempPath, EntryPath(key.Digest), overwrite: true);
                _reserved -= fileLength;
                AddLocked(new DiskEntry(key.Digest, image.Length, DateTime.UtcNow.Ticks));
                committed = true;
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A full or failing cache disk must not fail the caller: the image is in S3. The counter tells.
            Interlocked.Increment(ref _counters.DiskWriteErrors);
            Interlocked.Increment(ref _counters.DiskPutsSkipped);
            return false;
        }
        finally
        {
            lock (_lock)
            {
                if (!committed)
                {
                    _reserved -= fileLength;
                }

                _writesInFlight.Remove(key.Digest);
            }

            if (!committed)
            {
                TryDeleteFile(tempPath); // cancelled or failed: leave nothing behind
            }

            written.SetResult();
        }
    }

    /// <summary>Makes room for a file of <paramref name="fileLength"/> bytes by evicting least recently used entries.
    /// False when it cannot fit even then (larger than the budget, or the budget is held by puts in flight).</summary>
    private bool TryReserveLocked(long fileLength)
    {
        if (fileLength > _budget)
        {
            return false;
        }

        while (_bytes + _reserved + fileLength > _budget && _lru.First is { } oldest)
        {
            EvictLocked(oldest.Value);
        }

        if (_bytes + _reserved + fileLength > _budget)
        {
            return false;
        }

        _reserved += fileLength;
        return true;
    }

    /// <summary>Writes header, image and block checksum table to a new file. No fsync: a cache entry lost in a crash is
    /// fetched again, and one torn by a crash is caught by the header, length and CRC checks (it also never got its final
    /// name).</summary>
    private async Task WriteFileAsync(string path, ChunkKey key, ReadOnlyMemory<byte> image, CancellationToken cancellationToken)
    {
        var tableLength = ChunkFileFormat.TableLength(image.Length);
        var header = ArrayPool<byte>.Shared.Rent(ChunkFileFormat.DataOffset);
        var table = ArrayPool<byte>.Shared.Rent(tableLength);
        try
        {
            ChunkFileFormat.WriteTable(table.AsSpan(0, tableLength), image.Span);
            var tableCrc = Crc32C.Compute(table.AsSpan(0, tableLength));
            ChunkFileFormat.WriteHeader(header, key.Utf8, image.Length, Crc32C.Compute(image.Span), tableCrc);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
            await RandomAccess.WriteAsync(
                file, [header.AsMemory(0, ChunkFileFormat.DataOffset), image, table.AsMemory(0, tableLength)], 0, cancellationToken);
            Interlocked.Add(ref _counters.DiskBytesWritten, ChunkFileFormat.FileLength(image.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(table);
            ArrayPool<byte>.Shared.Return(header);
        }
    }
}
