using System.Collections.Concurrent;
using System.Numerics;

namespace Ublk.Server.Block;

/// <summary>
/// A sparse in-memory disk: fixed-size pages are allocated on first write, reads of absent pages return zeros, and
/// discard / write-zeroes free every page they cover completely (partially covered pages are zeroed in place).
/// Data is lost when the process exits.
/// </summary>
/// <remarks>
/// Thread-safe for concurrent calls, overlapping or not: the page map is a <see cref="ConcurrentDictionary{TKey, TValue}"/>
/// and calls that touch different bytes never interfere. As on a real disk, overlapping requests in flight together
/// have no defined order (a write racing a discard of the same page may or may not survive).
/// </remarks>
public sealed class MemoryBackend : IBlockBackend
{
    /// <summary>4 KiB: the device's discard granularity, and random 4k writes touch no memory they do not fill.</summary>
    public const int DefaultPageSize = 4096;

    private readonly ConcurrentDictionary<long, byte[]> _pages = new();

    public MemoryBackend(long sizeBytes, int logicalBlockSize = 512, int pageSize = DefaultPageSize)
    {
        BackendArguments.Validate(sizeBytes, logicalBlockSize);
        if (pageSize < logicalBlockSize || !BitOperations.IsPow2(pageSize))
        {
            throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, "The page size must be a power of two of at least the block size.");
        }

        SizeBytes = sizeBytes;
        LogicalBlockSize = logicalBlockSize;
        PageSize = pageSize;
    }

    public long SizeBytes { get; }

    public int LogicalBlockSize { get; }

    /// <summary>Every call is a memory copy or less: the ublk queue may run it on its own thread.</summary>
    public bool CompletesInline => true;

    /// <summary>The allocation unit in bytes.</summary>
    public int PageSize { get; }

    /// <summary>Pages currently allocated.</summary>
    public int AllocatedPages => _pages.Count;

    /// <summary>Memory held by allocated pages.</summary>
    public long AllocatedBytes => (long)_pages.Count * PageSize;

    public ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        BackendArguments.CheckRange(offset, destination.Length, SizeBytes);
        Span<byte> target = destination.Span;
        while (!target.IsEmpty)
        {
            (long index, int inPage, int count) = Locate(offset, target.Length);
            if (_pages.TryGetValue(index, out byte[]? page))
            {
                page.AsSpan(inPage, count).CopyTo(target);
            }
            else
            {
                target[..count].Clear();
            }

            offset += count;
            target = target[count..];
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> source, WriteFlags flags, CancellationToken cancellationToken)
    {
        BackendArguments.CheckRange(offset, source.Length, SizeBytes);
        ReadOnlySpan<byte> data = source.Span;
        while (!data.IsEmpty)
        {
            (long index, int inPage, int count) = Locate(offset, data.Length);
            byte[] page = _pages.GetOrAdd(index, static (_, size) => new byte[size], PageSize);
            data[..count].CopyTo(page.AsSpan(inPage, count));
            offset += count;
            data = data[count..];
        }

        // Memory is as durable as this backend gets: FUA and FLUSH need nothing more.
        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken)
    {
        BackendArguments.CheckRange(offset, length, SizeBytes);
        ZeroRange(offset, length);
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteZeroesAsync(long offset, long length, CancellationToken cancellationToken)
    {
        BackendArguments.CheckRange(offset, length, SizeBytes);
        ZeroRange(offset, length);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _pages.Clear();
        return ValueTask.CompletedTask;
    }

    private void ZeroRange(long offset, long length)
    {
        while (length > 0)
        {
            (long index, int inPage, int count) = Locate(offset, (int)Math.Min(length, PageSize));
            if (count == PageSize)
            {
                _pages.TryRemove(index, out _);
            }
            else if (_pages.TryGetValue(index, out byte[]? page))
            {
                page.AsSpan(inPage, count).Clear();
            }

            offset += count;
            length -= count;
        }
    }

    /// <summary>The page holding <paramref name="offset"/>, the offset inside it, and how many of <paramref name="wanted"/> bytes fit.</summary>
    private (long Index, int InPage, int Count) Locate(long offset, int wanted)
    {
        long index = offset / PageSize;
        int inPage = (int)(offset % PageSize);
        return (index, inPage, Math.Min(wanted, PageSize - inPage));
    }
}
