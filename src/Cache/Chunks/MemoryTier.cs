using Microsoft.Extensions.Caching.Memory;

namespace S3Block.Cache.Chunks;

/// <summary>
/// The RAM tier: whole chunk images in a <see cref="MemoryCache"/> whose <c>SizeLimit</c> is the byte budget (each
/// entry's size is its image length). Holds only clean, immutable images, so losing an entry to compaction is
/// always safe (see dotnet-conventions §3 item 6).
/// </summary>
/// <remarks>
/// <para>Images are never handed out: reads copy out of them, so no caller can modify a cached image. An image given
/// with <see cref="TryAddOwned"/> (a GET's array, a promoted disk entry) may still be read by whoever gave it, which can
/// keep an evicted one alive for the length of that read. Memory is therefore the budget plus the buffers of calls in
/// flight.</para>
/// <para><see cref="MemoryCache"/> rejects an entry that does not fit and only then compacts, in the background
/// (to 95% of the limit). So that a new hot image is not dropped when the tier is full, <see cref="TryAdd"/> first
/// compacts synchronously, least recently used first, enough entries to make room.</para>
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
        if (!_cache.TryGetValue(key, out CachedImage? image) || image is null)
        {
            return false;
        }

        DiskTier.CheckRange(offset, destination.Length, image.Data.Length);
        image.Data.AsSpan((int)offset, destination.Length).CopyTo(destination);
        return true;
    }

    /// <summary>A copy of the cached image, or null.</summary>
    public byte[]? TryCopy(string key) =>
        _cache.TryGetValue(key, out CachedImage? image) && image is not null ? image.Data.AsSpan().ToArray() : null;

    /// <summary>Caches a copy of <paramref name="image"/> unless the key is cached already or the image exceeds the budget.</summary>
    public void TryAdd(string key, ReadOnlySpan<byte> image)
    {
        if (image.Length <= _budget && !_cache.TryGetValue(key, out _))
        {
            AddOwned(key, image.ToArray());
        }
    }

    /// <summary>As <see cref="TryAdd"/>, keeping <paramref name="image"/> itself instead of a copy: nobody may change it
    /// afterwards (the caller may go on reading it; this tier never writes to an image or hands one out).</summary>
    public void TryAddOwned(string key, byte[] image)
    {
        if (image.Length <= _budget && !_cache.TryGetValue(key, out _))
        {
            AddOwned(key, image);
        }
    }

    public bool Remove(string key)
    {
        var present = _cache.TryGetValue(key, out _);
        _cache.Remove(key);
        return present;
    }

    public void Dispose() => _cache.Dispose();

    private void AddOwned(string key, byte[] data)
    {
        MakeRoom(data.Length);
        var image = new CachedImage(data);
        using (var entry = _cache.CreateEntry(key))
        {
            entry.Value = image;
            entry.Size = data.Length;
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
        // Capacity is also the reason given to an entry rejected on insert; only count entries that were in.
        if (reason == EvictionReason.Capacity && value is CachedImage { Admitted: true })
        {
            Interlocked.Increment(ref ((ChunkCacheCounters)state!).MemoryEvictions);
        }
    }

    /// <summary>A cached image, and whether it was admitted (so that rejections are not counted as evictions).</summary>
    private sealed class CachedImage(byte[] data)
    {
        public byte[] Data { get; } = data;

        public volatile bool Admitted;
    }
}
