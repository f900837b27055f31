using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Caching.Memory;

namespace S3Block.Cache.Chunks;

/// <summary>
/// The RAM tier: whole chunk images in a <see cref="MemoryCache"/> whose <c>SizeLimit</c> is the byte budget (each
/// entry's size is the length of the buffer holding it: the image's, or a volume's shorter last chunk rounded up to a
/// power of two by the pool). Holds only clean, immutable images, so losing an entry to compaction is always safe (see
/// dotnet-conventions §3 item 6).
/// </summary>
/// <remarks>
/// <para>Images are never handed out: reads copy out of them, so no caller can modify a cached image. Most images sit
/// in buffers of the <see cref="ChunkBufferPool"/>, which go back to it when the entry is evicted and the last read
/// copying out of it has finished (each image counts its readers). An image given with <see cref="TryAddOwned"/> (a
/// GET's array, which its fetch's readers may still be reading) is never pooled: once evicted it is the GC's. Memory
/// is therefore the budget plus the buffers of calls in flight.</para>
/// <para><see cref="MemoryCache"/> rejects an entry that does not fit and only then compacts, in the background
/// (to 95% of the limit). So that a new hot image is not dropped when the tier is full, adding first compacts
/// synchronously, least recently used first, enough entries to make room.</para>
/// </remarks>
internal sealed class MemoryTier : IDisposable
{
    private readonly MemoryCache _cache;
    private readonly long _budget;
    private readonly ChunkCacheCounters _counters;

    public MemoryTier(long budget, ChunkCacheCounters counters)
    {
        _budget = budget;
        _counters = counters;
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = budget, TrackStatistics = true });
    }

    public (long Bytes, long Entries) Usage
    {
        get
        {
            var statistics = _cache.GetCurrentStatistics();
            return (statistics?.CurrentEstimatedSize ?? 0, statistics?.CurrentEntryCount ?? 0);
        }
    }

    public bool Contains(string key) => _cache.TryGetValue(key, out _);

    /// <summary>Copies a range of the cached image into <paramref name="destination"/>; false if not cached.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range lies outside the image.</exception>
    public bool TryRead(string key, long offset, Span<byte> destination)
    {
        if (!TryAcquire(key, out var image))
        {
            return false;
        }

        try
        {
            DiskTier.CheckRange(offset, destination.Length, image.Length);
            image.Data.AsSpan((int)offset, destination.Length).CopyTo(destination);
            return true;
        }
        finally
        {
            image.Release();
        }
    }

    /// <summary>A copy of the cached image, or null.</summary>
    public byte[]? TryCopy(string key)
    {
        if (!TryAcquire(key, out var image))
        {
            return null;
        }

        try
        {
            return image.Data.AsSpan(0, image.Length).ToArray();
        }
        finally
        {
            image.Release();
        }
    }

    /// <summary>Caches a copy of <paramref name="image"/> (in a pooled buffer) unless the key is cached already or the
    /// image exceeds the budget.</summary>
    public void TryAdd(string key, ReadOnlySpan<byte> image)
    {
        if (image.Length <= _budget && !_cache.TryGetValue(key, out _))
        {
            var buffer = ChunkBufferPool.Rent(image.Length);
            image.CopyTo(buffer);
            Add(key, new CachedImage(buffer, image.Length, pooled: true));
        }
    }

    /// <summary>As <see cref="TryAdd"/>, taking over <paramref name="buffer"/> (rented from <see cref="ChunkBufferPool"/>,
    /// its first <paramref name="length"/> bytes the image) instead of copying it: the caller must not touch it
    /// afterwards. Returned to the pool at once if not cached.</summary>
    public void TryAddPooled(string key, byte[] buffer, int length)
    {
        if (buffer.Length <= _budget && !_cache.TryGetValue(key, out _))
        {
            Add(key, new CachedImage(buffer, length, pooled: true));
        }
        else
        {
            ChunkBufferPool.Return(buffer);
        }
    }

    /// <summary>As <see cref="TryAdd"/>, keeping <paramref name="image"/> itself instead of a copy: nobody may change it
    /// afterwards (the caller may go on reading it; this tier never writes to an image or hands one out, and never
    /// returns it to the pool).</summary>
    public void TryAddOwned(string key, byte[] image)
    {
        if (image.Length <= _budget && !_cache.TryGetValue(key, out _))
        {
            Add(key, new CachedImage(image, image.Length, pooled: false));
        }
    }

    public bool Remove(string key)
    {
        var present = _cache.TryGetValue(key, out _);
        _cache.Remove(key);
        return present;
    }

    public void Dispose()
    {
        _cache.Clear(); // ends every entry, so their buffers go back; MemoryCache.Dispose ends none
        _cache.Dispose();
    }

    private bool TryAcquire(string key, [NotNullWhen(true)] out CachedImage? image) =>
        _cache.TryGetValue(key, out image) && image is not null && image.TryAcquire();

    /// <summary>Inserts <paramref name="image"/>, which then belongs to the cache: whatever ends the entry (eviction,
    /// removal, replacement, or rejection on insert) releases the cache's reference.</summary>
    private void Add(string key, CachedImage image)
    {
        MakeRoom(image.Data.Length);
        using (var entry = _cache.CreateEntry(key))
        {
            entry.Value = image;
            entry.Size = image.Data.Length; // what it holds, also when the pool rounded the buffer up
            entry.RegisterPostEvictionCallback(OnEvicted, _counters);
        } // Disposing the entry inserts it (or rejects it if it does not fit after all).

        if (_cache.TryGetValue(key, out CachedImage? stored) && ReferenceEquals(stored, image))
        {
            image.Admitted = true;
        }
    }

    /// <summary>Compacts least recently used entries so that <paramref name="incoming"/> more bytes fit.</summary>
    private void MakeRoom(long incoming)
    {
        var (bytes, entries) = Usage;
        var excess = bytes + incoming - _budget;
        if (excess <= 0 || entries == 0)
        {
            return;
        }

        // Compact(p) drops the p * Count least recently used entries; assume entries of average size.
        var average = (double)bytes / entries;
        var drop = Math.Ceiling(excess / average);
        _cache.Compact(Math.Min(1.0, (drop + 0.5) / entries));
    }

    private static void OnEvicted(object key, object? value, EvictionReason reason, object? state)
    {
        if (value is not CachedImage image)
        {
            return;
        }

        // Capacity is also the reason given to an entry rejected on insert; only count entries that were in.
        if (reason == EvictionReason.Capacity && image.Admitted)
        {
            Interlocked.Increment(ref ((ChunkCacheCounters)state!).MemoryEvictions);
        }

        image.Release(); // MemoryCache calls this once per entry
    }

    /// <summary>
    /// A cached image and its references: one for the cache (from insertion to the eviction callback) and one per read
    /// copying out of it. The last release hands a pooled buffer back; a reference can no longer be taken after that.
    /// </summary>
    private sealed class CachedImage(byte[] data, int length, bool pooled)
    {
        private int _references = 1;

        public byte[] Data { get; } = data;

        public int Length { get; } = length;

        /// <summary>Whether the cache took the entry (so that rejections are not counted as evictions).</summary>
        public volatile bool Admitted;

        public bool TryAcquire()
        {
            var seen = Volatile.Read(ref _references);
            while (seen > 0)
            {
                var before = Interlocked.CompareExchange(ref _references, seen + 1, seen);
                if (before == seen)
                {
                    return true;
                }

                seen = before;
            }

            return false; // released: the buffer may belong to someone else by now
        }

        public void Release()
        {
            var left = Interlocked.Decrement(ref _references);
            if (left < 0)
            {
                // Its buffer went back while in use, and may hold another chunk's bytes by now: stop serving anything.
                Environment.FailFast("a cached chunk image was released more often than it was acquired");
            }

            if (left == 0 && pooled)
            {
                ChunkBufferPool.Return(Data);
            }
        }
    }
}
