using Microsoft.Win32.SafeHandles;

namespace S3Block.Cache.Chunks;

/// <summary>
/// The disk tier's open entry files: a small LRU of read handles whose header and block checksum table were checked
/// when they were opened, so a ranged hit costs one pread and the checksums of the blocks it read instead of open,
/// header and table reads, fstat, pread and close (bench/ChunkCacheBench: a 4 KiB hit went from 0.05–0.07× a plain
/// pread to 0.30×; hashing the key and the index lookups are most of the rest).
/// </summary>
/// <remarks>
/// <para>A handle belongs to one <see cref="DiskEntry"/> object (reference identity) and is closed when that entry
/// leaves the index, so a deleted file's space is given back and a newer entry under the same name is never read
/// through an old handle. The disk tier adds and closes handles under its own lock, which is taken before this one.</para>
/// <para>A reader can still hold a handle that is closed meanwhile: SafeHandle defers the close until the reader's pread
/// returns, and a later pread throws <see cref="ObjectDisposedException"/>, which the reader takes for "not open".</para>
/// </remarks>
internal sealed class OpenFileCache(int capacity) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<DiskEntry, LinkedListNode<OpenFile>> _files = [];
    private readonly LinkedList<OpenFile> _lru = new(); // First = least recently used.
    private bool _disposed;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _files.Count;
            }
        }
    }

    public OpenFile? TryGet(DiskEntry entry)
    {
        lock (_lock)
        {
            if (!_files.TryGetValue(entry, out var node))
            {
                return null;
            }

            if (node != _lru.Last)
            {
                _lru.Remove(node);
                _lru.AddLast(node);
            }

            return node.Value;
        }
    }

    /// <summary>Keeps <paramref name="file"/> open for its entry (taking ownership), closing the least recently used
    /// handle when full. If the entry already has one, or the cache is disposed (a read that outlived it),
    /// <paramref name="file"/> is closed instead.</summary>
    public void Add(OpenFile file)
    {
        lock (_lock)
        {
            if (_disposed || _files.ContainsKey(file.Entry))
            {
                file.Handle.Dispose();
                return;
            }

            if (_files.Count >= capacity && _lru.First is { } oldest)
            {
                RemoveLocked(oldest);
            }

            _files.Add(file.Entry, _lru.AddLast(file));
        }
    }

    /// <summary>Closes the handle of <paramref name="entry"/>, if one is open.</summary>
    public void Close(DiskEntry entry)
    {
        lock (_lock)
        {
            if (_files.TryGetValue(entry, out var node))
            {
                RemoveLocked(node);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            while (_lru.First is { } node)
            {
                RemoveLocked(node);
            }
        }
    }

    private void RemoveLocked(LinkedListNode<OpenFile> node)
    {
        _files.Remove(node.Value.Entry);
        _lru.Remove(node);
        node.Value.Handle.Dispose();
    }
}

/// <summary>An entry file open for reading, with what its checked header and table gave: the key it holds (compared
/// with the caller's on every hit), the image length, and the CRC32C of each block of the image.</summary>
internal sealed record OpenFile(DiskEntry Entry, SafeFileHandle Handle, byte[] KeyUtf8, long DataLength, uint[] BlockCrcs);
