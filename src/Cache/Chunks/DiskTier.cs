using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace S3Block.Cache.Chunks;

/// <summary>
/// The disk tier: entry files under a folder (see <see cref="ChunkFileName"/> and <see cref="ChunkFileFormat"/>),
/// an in-memory index of them, and LRU eviction of whole entries to stay within a byte budget.
/// </summary>
/// <remarks>
/// <para><b>Locking.</b> One lock guards the index, the LRU list, the byte counts and the set of puts in flight. It is
/// held for index updates and for the metadata calls that must be atomic with them (the rename that publishes an
/// entry, the unlink that evicts one), never for data I/O and never across an await.</para>
/// <para><b>Why reads need no lock.</b> A reader looks the entry up, then opens and reads its file without the lock.
/// If eviction unlinks the file before the open, the open fails and the read is a miss; if after, Linux keeps the
/// unlinked file readable through the open handle, so the read completes with the right bytes. The same holds for the
/// handles <see cref="OpenFileCache"/> keeps open, which are closed when their entry leaves the index. A file under an entry
/// name is never rewritten in place: a put of a key that is indexed or being written is a no-op (keys are
/// immutable), so no rename can replace a file that a reader has looked up.</para>
/// <para><b>Budget.</b> A put reserves its file size before writing, evicting least recently used entries to make
/// room, so entries plus files being written never exceed the budget.</para>
/// </remarks>
internal sealed partial class DiskTier : IDisposable
{
    /// <summary>Held with an exclusive lock while the tier is open (not an entry name, so never scanned or deleted).</summary>
    internal const string LockFileName = "chunk-cache.lock";

    /// <summary>How many entry files stay open for fast ranged reads (see <see cref="OpenFileCache"/>).</summary>
    internal const int MaxOpenFiles = 64;

    private readonly string _folder;
    private readonly long _budget;
    private readonly long _stampIntervalTicks;
    private readonly ChunkCacheCounters _counters;

    private readonly Lock _lock = new();
    private readonly Dictionary<UInt128, DiskEntry> _entries = [];
    private readonly LinkedList<DiskEntry> _lru = new(); // First = least recently used.
    private readonly Dictionary<UInt128, Task> _writesInFlight = [];
    private readonly OpenFileCache _openFiles = new(MaxOpenFiles);
    private long _bytes;    // file bytes of indexed entries
    private long _reserved; // file bytes of puts being written
    private SafeFileHandle? _folderLock;

    private DiskTier(string folder, long budget, TimeSpan stampInterval, ChunkCacheCounters counters)
    {
        _folder = folder;
        _budget = budget;
        _stampIntervalTicks = stampInterval.Ticks;
        _counters = counters;
    }

    public string Folder => _folder;

    public (long Bytes, int Entries) Usage
    {
        get
        {
            lock (_lock)
            {
                return (_bytes, _entries.Count);
            }
        }
    }

    public bool Contains(UInt128 digest)
    {
        lock (_lock)
        {
            return _entries.ContainsKey(digest);
        }
    }

    /// <summary>Finds an entry and marks it most recently used (in memory, and now and then in its file's mtime).</summary>
    public DiskEntry? Lookup(UInt128 digest)
    {
        DiskEntry? entry;
        var stamp = false;
        var now = DateTime.UtcNow.Ticks;
        lock (_lock)
        {
            if (!_entries.TryGetValue(digest, out entry))
            {
                return null;
            }

            MoveToMostRecentLocked(entry);
            if (now - entry.LastStampTicks >= _stampIntervalTicks)
            {
                entry.LastStampTicks = now;
                stamp = true;
            }
        }

        if (stamp)
        {
            StampUse(entry, now);
        }

        return entry;
    }

    /// <summary>Deletes the entry of <paramref name="digest"/>, if any. A put of the key still in flight is not stopped.</summary>
    public bool Remove(UInt128 digest)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(digest, out var entry))
            {
                return false;
            }

            RemoveLocked(entry);
            TryDeleteFile(EntryPath(entry.Digest));
            return true;
        }
    }

    /// <summary>Entry files open for reading now (for tests).</summary>
    internal int OpenFileCount => _openFiles.Count;

    /// <summary>Closes the open entry files and releases the folder lock. The files stay for the next <see cref="Open"/>.</summary>
    public void Dispose()
    {
        _openFiles.Dispose();
        _folderLock?.Dispose();
    }

    private string EntryPath(UInt128 digest) => ChunkFileName.EntryPath(_folder, digest);

    private void AddLocked(DiskEntry entry)
    {
        _entries.Add(entry.Digest, entry);
        _lru.AddLast(entry.Node);
        _bytes += entry.FileLength;
    }

    private void RemoveLocked(DiskEntry entry)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        _entries.Remove(entry.Digest);
        _lru.Remove(entry.Node);
        _bytes -= entry.FileLength;
        _openFiles.Close(entry); // else the deleted file's space stays in use
    }

    private void MoveToMostRecentLocked(DiskEntry entry)
    {
        if (entry.Node != _lru.Last)
        {
            _lru.Remove(entry.Node);
            _lru.AddLast(entry.Node);
        }
    }

    /// <summary>Deletes the least recently used entry.</summary>
    private void EvictLocked(DiskEntry entry)
    {
        RemoveLocked(entry);
        TryDeleteFile(EntryPath(entry.Digest));
        Interlocked.Increment(ref _counters.DiskEvictions);
    }

    /// <summary>
    /// Removes an entry whose file turned out damaged, if the index still holds this very entry, and deletes the file.
    /// <paramref name="checksumMismatch"/> says the damage was found by a data or block checksum (also counted apart).
    /// </summary>
    private void DropCorrupt(DiskEntry entry, bool checksumMismatch = false)
    {
        if (checksumMismatch)
        {
            // Counted even when the entry is gone already: the bytes read did not match, whoever drops the entry.
            Interlocked.Increment(ref _counters.ChecksumMismatches);
        }

        lock (_lock)
        {
            if (!_entries.TryGetValue(entry.Digest, out var current) || !ReferenceEquals(current, entry))
            {
                return; // Already evicted or removed; a newer entry under the same name is not ours to judge.
            }

            RemoveLocked(entry);
            TryDeleteFile(EntryPath(entry.Digest));
        }

        Interlocked.Increment(ref _counters.CorruptEntries);
    }

    /// <summary>Forgets an entry whose file has disappeared (deleted from outside the cache).</summary>
    private void ForgetVanished(DiskEntry entry)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(entry.Digest, out var current) && ReferenceEquals(current, entry))
            {
                RemoveLocked(entry);
            }
        }
    }

    /// <summary>Sets the file's mtime, the "last used" stamp that orders the LRU list after a restart. Best effort.</summary>
    private void StampUse(DiskEntry entry, long utcTicks)
    {
        try
        {
            File.SetLastWriteTimeUtc(EntryPath(entry.Digest), new DateTime(utcTicks, DateTimeKind.Utc));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Evicted meanwhile, or not permitted: the order after a restart is merely less exact.
        }
    }

    private static void TryDeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file that cannot be deleted is no longer indexed, so it is never read; a restart retries.
        }
    }
}
