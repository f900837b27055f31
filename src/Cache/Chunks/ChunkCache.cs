namespace S3Block.Cache.Chunks;

/// <summary>
/// A local cache of clean, immutable chunk images, keyed by their S3 generation key: a RAM tier for hot chunks over a
/// disk tier that survives restarts. Dirty data never lives here (that is the journal's job).
/// </summary>
/// <remarks>
/// <para><b>No invalidation.</b> A key must name the same bytes forever. Object keys alone do not: a volume
/// re-created under the same name starts its epochs and commits again, and would find the old volume's entries. So the
/// volume puts its id (new for every <c>create</c>) in front of every key (S3Block/Volume/VolumeBoundChunkCache.cs);
/// with that, an entry can never be stale, and the cache only evicts (LRU, per tier, within byte budgets) and verifies
/// (see <see cref="ChunkFileFormat"/>: the key is compared and the checksums of the bytes read are checked on every disk
/// read; a damaged or foreign disk entry is deleted and reported as a miss, never served).</para>
/// <para><b>Tiers.</b> Reads try RAM, then disk. <see cref="PutAsync"/> stores in both (a just-fetched or just-uploaded
/// chunk is hot). A chunk read from disk in ranges is loaded whole into RAM after
/// <see cref="ChunkCacheOptions.PromoteAfterDiskHits"/> hits. <see cref="TryGetWholeAsync"/> does not promote: its
/// caller is a read-modify-write whose result is a new generation, so the old image will not be read again.</para>
/// <para><b>Threads.</b> All members are safe for concurrent callers. Memory held is the RAM budget, the index
/// (about 180 bytes per disk entry) and the buffers of calls in flight; there are no queues.</para>
/// </remarks>
public sealed class ChunkCache : IDisposable
{
    private readonly DiskTier _disk;
    private readonly MemoryTier? _memory;
    private readonly int _promoteAfterDiskHits;
    private readonly ChunkCacheCounters _counters;
    private readonly long _memoryBudget;
    private readonly long _diskBudget;
    private volatile bool _disposed;

    private ChunkCache(DiskTier disk, MemoryTier? memory, ChunkCacheOptions options, ChunkCacheCounters counters, ChunkCacheStartupReport report)
    {
        _disk = disk;
        _memory = memory;
        _memoryBudget = options.MemoryBudgetBytes;
        _diskBudget = options.DiskBudgetBytes;
        _promoteAfterDiskHits = options.PromoteAfterDiskHits;
        _counters = counters;
        StartupReport = report;
    }

    /// <summary>What opening found in the folder (entries kept, files cleaned up, time taken).</summary>
    public ChunkCacheStartupReport StartupReport { get; }

    /// <summary>The full path of the disk tier's folder.</summary>
    public string Folder => _disk.Folder;

    /// <summary>
    /// Opens the cache over <see cref="ChunkCacheOptions.Folder"/>, re-indexing the entries a previous run left there
    /// (see <see cref="StartupReport"/>). Takes time proportional to the number of entries: one header read each.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is out of range (use <see cref="ChunkCacheOptions.Validate"/> to
    /// report configuration problems with their keys first).</exception>
    /// <exception cref="IOException">Another cache (in this or another process) has the folder open.</exception>
    public static ChunkCache Open(ChunkCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Folder, nameof(options));
        if (options.DiskBudgetBytes <= ChunkFileFormat.DataOffset || options.MemoryBudgetBytes < 0 || options.PromoteAfterDiskHits < 0)
        {
            throw new ArgumentException(
                $"DiskBudgetBytes ({options.DiskBudgetBytes}) must exceed {ChunkFileFormat.DataOffset}, MemoryBudgetBytes ({options.MemoryBudgetBytes}) "
                + $"and PromoteAfterDiskHits ({options.PromoteAfterDiskHits}) must not be negative.",
                nameof(options));
        }

        var counters = new ChunkCacheCounters();
        var disk = DiskTier.Open(options.Folder, options.DiskBudgetBytes, options.UseStampInterval, counters, out var report);
        var memory = options.MemoryBudgetBytes > 0 ? new MemoryTier(options.MemoryBudgetBytes, counters) : null;
        return new ChunkCache(disk, memory, options, counters, report);
    }

    /// <summary>
    /// Copies <paramref name="destination"/>.Length bytes of the chunk <paramref name="key"/>, starting at byte
    /// <paramref name="offset"/> of its image, into <paramref name="destination"/>. Reads only that range from disk, widened to
    /// whole 4 KiB blocks, and checks the CRC32C of each of those blocks (a mismatch is a miss and drops the entry).
    /// </summary>
    /// <returns>True on a hit (all bytes copied); false on a miss (<paramref name="destination"/> may have been written
    /// to, but holds nothing to use).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range lies outside a cached image.</exception>
    public async ValueTask<bool> TryReadAsync(string key, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);

        // RAM first, before hashing the key: a RAM hit costs a dictionary lookup and a copy.
        if (_memory is not null && _memory.TryRead(key, offset, destination.Span))
        {
            return Counted(ref _counters.MemoryHits, true);
        }

        var chunkKey = ChunkKey.From(key);
        var entry = _disk.Lookup(chunkKey.Digest);
        if (entry is null)
        {
            return Counted(ref _counters.Misses, false);
        }

        if (_memory is not null && entry.CountHitAndCheckPromotion(_promoteAfterDiskHits))
        {
            // A chunk read again and again: read it whole once (which also checks its CRC) and keep it in RAM.
            DiskTier.CheckRange(offset, destination.Length, entry.DataLength);
            var buffer = await _disk.TryReadWholePooledAsync(chunkKey, entry, cancellationToken);
            if (buffer is null)
            {
                return Counted(ref _counters.Misses, false);
            }

            buffer.AsSpan((int)offset, destination.Length).CopyTo(destination.Span);
            _memory.TryAddPooled(key, buffer, (int)entry.DataLength);
            return Counted(ref _counters.DiskHits, true);
        }

        var hit = await _disk.TryReadRangeAsync(chunkKey, entry, offset, destination, cancellationToken);
        return Counted(ref hit ? ref _counters.DiskHits : ref _counters.Misses, hit);
    }

    /// <summary>
    /// The whole image of chunk <paramref name="key"/> in a new array the caller owns (e.g. for a read-modify-write
    /// before an upload), with its CRC checked when it comes from disk; null on a miss.
    /// </summary>
    public async ValueTask<byte[]?> TryGetWholeAsync(string key, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (_memory?.TryCopy(key) is { } copy)
        {
            Counted(ref _counters.MemoryHits, true);
            return copy;
        }

        var chunkKey = ChunkKey.From(key);
        var entry = _disk.Lookup(chunkKey.Digest);
        var image = entry is null ? null : await _disk.TryReadWholeAsync(chunkKey, entry, cancellationToken);
        Counted(ref image is null ? ref _counters.Misses : ref _counters.DiskHits, image is not null);
        return image;
    }

    /// <summary>
    /// Stores the image of chunk <paramref name="key"/> in both tiers (after a fetch from S3, or after an upload so the
    /// new generation is served locally). Storing a key that is already cached is a cheap no-op, also when two callers
    /// do it at once (a key always names the same bytes).
    /// </summary>
    /// <param name="key">The chunk's generation key.</param>
    /// <param name="image">The image; it must not change until the returned task completes.</param>
    /// <param name="cancellationToken">Cancels the disk write (nothing is left behind).</param>
    /// <returns>True when the disk tier holds the image afterwards. False when it could not take it (the image does
    /// not fit next to the puts in flight, or the write failed, e.g. disk full): counted in
    /// <see cref="ChunkCacheStatistics.DiskPutsSkipped"/>, never thrown, because the image is safe in S3.</returns>
    public async ValueTask<bool> PutAsync(string key, ReadOnlyMemory<byte> image, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var chunkKey = ChunkKey.From(key);
        _memory?.TryAdd(key, image.Span);
        return await _disk.PutAsync(chunkKey, image, cancellationToken);
    }

    /// <summary>
    /// As <see cref="PutAsync"/> for an image that nobody changes again (a GET's array): the RAM tier
    /// keeps <paramref name="image"/> itself instead of a 4 MiB copy, which is garbage on the large-object heap once
    /// evicted.
    /// </summary>
    public async ValueTask<bool> PutImmutableAsync(string key, byte[] image, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(image);
        var chunkKey = ChunkKey.From(key);
        _memory?.TryAddOwned(key, image);
        // The RAM tier has it: a caller that does not await at once (a reader's fetch) goes on before the disk tier's
        // checksums and file write, which run on the thread pool.
        await Task.Yield();
        return await _disk.PutAsync(chunkKey, image, cancellationToken);
    }

    /// <summary>Drops chunk <paramref name="key"/> from both tiers (e.g. its generation was deleted from S3). Optional:
    /// eviction would drop it eventually. A put of the key still in flight is not stopped.</summary>
    /// <returns>True if either tier held it.</returns>
    public bool Remove(string key)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var chunkKey = ChunkKey.From(key);
        var inMemory = _memory?.Remove(key) ?? false;
        return _disk.Remove(chunkKey.Digest) | inMemory;
    }

    /// <summary>Whether either tier holds chunk <paramref name="key"/> now. No I/O, nothing verified; a later read can
    /// still miss (eviction, or a damaged file).</summary>
    public bool Contains(string key)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrEmpty(key);
        return (_memory?.Contains(key) ?? false) || _disk.Contains(ChunkKey.From(key).Digest);
    }

    /// <summary>Disk-tier entry files held open for ranged reads (for tests).</summary>
    internal int OpenDiskFiles => _disk.OpenFileCount;

    /// <summary>A snapshot of the counters and gauges, e.g. for Prometheus.</summary>
    public ChunkCacheStatistics GetStatistics()
    {
        var (diskBytes, diskEntries) = _disk.Usage;
        var (memoryBytes, memoryEntries) = _memory?.Usage ?? (0, 0);
        return new ChunkCacheStatistics
        {
            MemoryHits = Interlocked.Read(ref _counters.MemoryHits),
            DiskHits = Interlocked.Read(ref _counters.DiskHits),
            Misses = Interlocked.Read(ref _counters.Misses),
            MemoryEvictions = Interlocked.Read(ref _counters.MemoryEvictions),
            DiskEvictions = Interlocked.Read(ref _counters.DiskEvictions),
            MemoryBytes = memoryBytes,
            MemoryEntries = memoryEntries,
            DiskBytes = diskBytes,
            DiskEntries = diskEntries,
            CorruptEntries = Interlocked.Read(ref _counters.CorruptEntries),
            ChecksumMismatches = Interlocked.Read(ref _counters.ChecksumMismatches),
            DiskBytesRead = Interlocked.Read(ref _counters.DiskBytesRead),
            DiskBytesWritten = Interlocked.Read(ref _counters.DiskBytesWritten),
            DiskPutsSkipped = Interlocked.Read(ref _counters.DiskPutsSkipped),
            DiskWriteErrors = Interlocked.Read(ref _counters.DiskWriteErrors),
            MemoryBudgetBytes = _memoryBudget,
            DiskBudgetBytes = _diskBudget,
        };
    }

    /// <summary>Releases the RAM tier and the folder lock. The disk tier's files stay for the next <see cref="Open"/>.</summary>
    /// <remarks>Calls still in flight must have completed.</remarks>
    public void Dispose()
    {
        _disposed = true;
        _memory?.Dispose();
        _disk.Dispose();
    }

    private static bool Counted(ref long counter, bool result)
    {
        Interlocked.Increment(ref counter);
        return result;
    }
}
