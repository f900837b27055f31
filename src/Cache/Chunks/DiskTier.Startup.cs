using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace S3Block.Cache.Chunks;

internal sealed partial class DiskTier
{
    /// <summary>
    /// Opens the disk tier over <paramref name="folder"/> (created if missing): deletes leftover temp files and entry
    /// files that do not verify, indexes the rest in LRU order of their "last used" stamp (mtime), and evicts the least
    /// recently used entries beyond <paramref name="budget"/>.
    /// </summary>
    /// <remarks>Entries are trusted across restarts because a key is never reused for other bytes (the volume puts its
    /// id into every key). Each file's header is read and checked (magic, version, header CRC, key hashing to the file
    /// name, file length); the checksums are not (that would read the whole cache) and are checked by the reads
    /// instead. Entries of an older format version are deleted unread and reported apart from damaged ones.</remarks>
    public static DiskTier Open(
        string folder, long budget, TimeSpan stampInterval, ChunkCacheCounters counters, out ChunkCacheStartupReport report)
    {
        var started = Stopwatch.StartNew();
        var tier = new DiskTier(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)), budget, stampInterval, counters);
        Directory.CreateDirectory(tier._folder);
        tier._folderLock = LockFolder(tier._folder);
        try
        {
            report = tier.Scan(started);
            return tier;
        }
        catch
        {
            tier.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes the folder's lock file exclusively, so that a second cache (in this or another process) over the same
    /// folder fails at once instead of deleting the first one's files as "over budget" or "temp" files.
    /// </summary>
    private static SafeFileHandle LockFolder(string folder)
    {
        var path = Path.Combine(folder, LockFileName);
        try
        {
            // FileShare.None takes an exclusive flock on Linux.
            return File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"The chunk cache folder {folder} is in use by another cache (could not lock {path}: {e.Message}).", e);
        }
    }

    /// <summary>Deletes temp and damaged files, indexes the rest oldest first, and enforces the budget.</summary>
    /// <remarks>Shards are scanned in parallel: on a cold cache each header read waits for the device, and devices serve
    /// several reads at once.</remarks>
    private ChunkCacheStartupReport Scan(Stopwatch started)
    {
        var shards = new DirectoryInfo(_folder).EnumerateDirectories().Where(d => ChunkFileName.IsShardName(d.Name)).ToArray();
        var perShard = new List<(DiskEntry Entry, DateTime LastUsed)>[shards.Length];
        int temps = 0, corrupt = 0, oldFormat = 0;
        Parallel.For(0, shards.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var shard = shards[i];
            var entries = perShard[i] = [];
            var header = new byte[ChunkFileFormat.MaxUsedHeaderSize];
            foreach (var file in shard.EnumerateFiles())
            {
                if (ChunkFileName.IsTempName(shard.Name, file.Name))
                {
                    TryDeleteFile(file.FullName); // a put interrupted by a crash or kill
                    Interlocked.Increment(ref temps);
                }
                else if (ChunkFileName.TryParseEntryName(shard.Name, file.Name, out var digest))
                {
                    switch (CheckEntryFile(file, digest, header, out var dataLength))
                    {
                        case EntryFileCheck.Valid:
                            var lastUsed = file.LastWriteTimeUtc;
                            entries.Add((new DiskEntry(digest, dataLength, lastUsed.Ticks), lastUsed));
                            break;
                        case EntryFileCheck.OlderFormat:
                            TryDeleteFile(file.FullName); // written by an older version: never misread as this one
                            Interlocked.Increment(ref oldFormat);
                            break;
                        default:
                            TryDeleteFile(file.FullName);
                            Interlocked.Increment(ref corrupt);
                            break;
                    }
                }
            }
        });

        var found = perShard.SelectMany(entries => entries).ToList();

        // Oldest first; the digest breaks ties (mtimes of files written in the same clock tick are equal).
        found.Sort((a, b) => a.LastUsed != b.LastUsed ? a.LastUsed.CompareTo(b.LastUsed) : a.Entry.Digest.CompareTo(b.Entry.Digest));
        var evicted = 0;
        lock (_lock)
        {
            foreach (var (entry, _) in found)
            {
                AddLocked(entry);
            }

            while (_bytes > _budget && _lru.First is { } oldest)
            {
                EvictLocked(oldest.Value);
                evicted++;
            }
        }

        Interlocked.Add(ref _counters.CorruptEntries, corrupt);
        return new ChunkCacheStartupReport(_entries.Count, _bytes, temps, corrupt, oldFormat, evicted, started.Elapsed);
    }

    private enum EntryFileCheck
    {
        Valid,
        OlderFormat,
        Damaged,
    }

    /// <summary>Checks an entry file's header, that its key hashes to the file name, and its length.</summary>
    private static EntryFileCheck CheckEntryFile(FileInfo file, UInt128 digest, byte[] buffer, out long dataLength)
    {
        dataLength = 0;
        try
        {
            using var handle = File.OpenHandle(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var read = 0;
            int n;
            while (read < buffer.Length && (n = RandomAccess.Read(handle, buffer.AsSpan(read), read)) > 0)
            {
                read += n;
            }

            if (ChunkFileFormat.IsOlderFormat(buffer.AsSpan(0, read)))
            {
                return EntryFileCheck.OlderFormat;
            }

            return ChunkFileFormat.TryReadHeader(buffer.AsSpan(0, read), out var keyUtf8, out dataLength)
                && ChunkKey.DigestOf(keyUtf8) == digest
                && RandomAccess.GetLength(handle) == ChunkFileFormat.FileLength(dataLength)
                    ? EntryFileCheck.Valid
                    : EntryFileCheck.Damaged;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return EntryFileCheck.Damaged;
        }
    }
}
