namespace Ublk.Server.Block;

/// <summary>
/// The narrow contract between the kernel-facing device (ublk) and whatever stores the bytes.
/// </summary>
/// <remarks>
/// <para>Offsets and lengths are in bytes and always multiples of <see cref="LogicalBlockSize"/>; the caller checks
/// them against <see cref="SizeBytes"/> before calling.</para>
/// <para>Calls may run concurrently, including overlapping writes from different queues: like a disk, the backend
/// orders nothing among requests that are in flight together, but a request that <em>completed</em> before another
/// was issued is ordered before it.</para>
/// <para>Durability follows Linux's volatile-write-cache contract: a completed write may sit in a volatile cache;
/// <see cref="FlushAsync"/> returns only when every write that completed before it was called is durable, and a write
/// with <see cref="WriteFlags.ForceUnitAccess"/> returns only when its own data is durable.</para>
/// <para>Errors: throw <see cref="BlockIOException"/> with the errno to report; any other exception is reported as EIO.
/// Unless <see cref="CompletesInline"/> is true, callers never invoke these methods on a ublk queue thread (the
/// dispatcher moves them to the thread pool), so an implementation may do blocking work, but should prefer
/// asynchronous I/O.</para>
/// </remarks>
public interface IBlockBackend : IAsyncDisposable
{
    /// <summary>Capacity in bytes; a multiple of <see cref="LogicalBlockSize"/>.</summary>
    long SizeBytes { get; }

    /// <summary>The smallest addressable unit in bytes (512 or 4096).</summary>
    int LogicalBlockSize { get; }

    /// <summary>
    /// True only for a backend whose every call completes synchronously on the calling thread, touching nothing but
    /// process memory: no file, disk or network I/O, no waiting on locks held across I/O, on the thread pool or on
    /// another thread. Default false.
    /// </summary>
    /// <remarks>
    /// When true, a ublk queue runs each request inline on its queue thread and commits it in the same io_uring
    /// batch, which saves a thread-pool hop and a cross-thread wake-up per request. The rule that a queue thread
    /// never blocks on S3, a disk or the thread pool stays true only because such backends never answer true: a
    /// blocking call here would stall every request of that queue (and any filesystem on the device). Backends
    /// that store data in files or objects (the file backend, S3 volumes) must keep the default. A call that
    /// returns an incomplete task anyway still completes correctly, just through the slower asynchronous path.
    /// </remarks>
    bool CompletesInline => false;

    /// <summary>Fills <paramref name="destination"/> with the bytes at <paramref name="offset"/>.</summary>
    ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="source"/> at <paramref name="offset"/>.</summary>
    ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> source, WriteFlags flags, CancellationToken cancellationToken);

    /// <summary>Makes every write that completed before this call durable.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);

    /// <summary>Forgets a range: later reads return zeros (this backend family guarantees zeros, like WRITE_ZEROES).</summary>
    ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken);

    /// <summary>Makes a range read as zeros.</summary>
    ValueTask WriteZeroesAsync(long offset, long length, CancellationToken cancellationToken);
}

/// <summary>Per-write flags passed down from the block layer.</summary>
[Flags]
public enum WriteFlags
{
    /// <summary>A plain write: may stay in the volatile cache until the next flush.</summary>
    None = 0,

    /// <summary>REQ_FUA: the write completes only when its own data is durable.</summary>
    ForceUnitAccess = 1,
}
