using System.Runtime.InteropServices;
using Ublk.Server.Interop;
using Tmds.Linux;

namespace Ublk.Server.IoUring;

/// <summary>
/// One io_uring instance: the ring fd, the mmap'd SQ/CQ rings and SQE array, and the head/tail protocol.
/// </summary>
/// <remarks>
/// <para>Not thread-safe: exactly one thread prepares SQEs, submits and reaps. With
/// <see cref="IoUringSetupFlags.SingleIssuer"/> that must be the thread that created the ring.</para>
/// <para>Memory ordering (the kernel is the other party): the kernel publishes CQEs and then the CQ tail with a
/// release store, so we <c>Volatile.Read</c> the CQ tail before reading CQEs, and
/// <c>Volatile.Write</c> the CQ head after copying a CQE out (the slot may be reused at once).
/// We write SQEs and then release-store the SQ tail; the kernel release-stores the SQ head after consuming SQEs,
/// which we acquire-read before reusing a slot.</para>
/// <para>The SQ index array is set to the identity once (slot i holds i) and SQEs are handed out in ring order,
/// so submission is just "bump the tail".</para>
/// </remarks>
internal sealed unsafe class IoUringRing : IDisposable
{
    private const int CqeSize = 16;

    private readonly FileDescriptorHandle _ringFd;
    private readonly MappedRegion _rings;
    private readonly MappedRegion? _cqRingSeparate;
    private readonly MappedRegion _sqeArray;

    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint* _sqFlags;
    private readonly uint _sqMask;
    private readonly byte* _sqes;
    private readonly int _sqeSize;

    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint* _cqOverflow;
    private readonly io_uring_cqe* _cqes;
    private readonly uint _cqMask;

    /// <summary>SQEs handed out by <see cref="GetSqe"/>; published to the kernel's tail on submit.</summary>
    private uint _sqeTail;

    private IoUringRing(FileDescriptorHandle ringFd, in IoUringParams p, MappedRegion rings, MappedRegion? cqRing, MappedRegion sqeArray)
    {
        _ringFd = ringFd;
        _rings = rings;
        _cqRingSeparate = cqRing;
        _sqeArray = sqeArray;
        Flags = p.Flags;
        Features = p.Features;
        SqEntries = p.SqEntries;
        CqEntries = p.CqEntries;

        byte* sq = rings.Pointer;
        _sqHead = (uint*)(sq + p.SqOff.Head);
        _sqTail = (uint*)(sq + p.SqOff.Tail);
        _sqFlags = (uint*)(sq + p.SqOff.Flags);
        _sqMask = *(uint*)(sq + p.SqOff.RingMask);
        uint* sqArray = (uint*)(sq + p.SqOff.Array);
        for (uint i = 0; i < SqEntries; i++)
        {
            sqArray[i] = i;
        }

        byte* cq = (cqRing ?? rings).Pointer;
        _cqHead = (uint*)(cq + p.CqOff.Head);
        _cqTail = (uint*)(cq + p.CqOff.Tail);
        _cqOverflow = (uint*)(cq + p.CqOff.Overflow);
        _cqMask = *(uint*)(cq + p.CqOff.RingMask);
        _cqes = (io_uring_cqe*)(cq + p.CqOff.Cqes);

        _sqes = sqeArray.Pointer;
        _sqeSize = (p.Flags & IoUringSetupFlags.Sqe128) != 0 ? 128 : 64;
        _sqeTail = *_sqTail;
    }

    /// <summary>The flags the ring was created with.</summary>
    public IoUringSetupFlags Flags { get; }

    /// <summary>What the kernel reported it supports.</summary>
    public IoUringFeatures Features { get; }

    public uint SqEntries { get; }

    public uint CqEntries { get; }

    /// <summary>How many times a wait returned EINTR and was retried.</summary>
    public long InterruptedWaits { get; private set; }

    /// <summary>How many times io_uring_enter answered EAGAIN/EBUSY (CQ backlog) and we backed off.</summary>
    public long BusyRetries { get; private set; }

    /// <summary>Completions the kernel had to drop (CQ overflow without room for its backlog). Should stay 0.</summary>
    public uint DroppedCompletions => Volatile.Read(ref *_cqOverflow);

    /// <summary>The kernel holds completions that did not fit in the CQ; entering with GETEVENTS flushes them.</summary>
    public bool HasOverflowBacklog => (Volatile.Read(ref *_sqFlags) & IoUringConstants.SqCqOverflow) != 0;

    /// <summary>CQEs ready to be reaped.</summary>
    public uint ReadyCompletions => Volatile.Read(ref *_cqTail) - *_cqHead;

    /// <summary>SQEs prepared but not yet consumed by the kernel.</summary>
    public uint PendingSubmissions => _sqeTail - Volatile.Read(ref *_sqHead);

    /// <summary>How many more SQEs <see cref="GetSqe"/> can hand out before a submit.</summary>
    public uint FreeSqes => SqEntries - PendingSubmissions;

    /// <summary>Creates a ring; throws <see cref="ErrnoException"/> if the kernel refuses.</summary>
    public static IoUringRing Create(uint entries, IoUringSetupFlags flags, uint cqEntries = 0)
    {
        int error = TryCreate(entries, flags, cqEntries, out IoUringRing? ring);
        if (error != 0)
        {
            throw new ErrnoException((Errno)error, $"io_uring_setup(entries {entries}, flags {flags})");
        }

        return ring!;
    }

    /// <summary>
    /// Tries each flag set in order and returns the first ring the kernel accepts; EINVAL (an unknown flag on an
    /// older kernel) moves on to the next candidate, any other error is thrown.
    /// </summary>
    public static IoUringRing CreateWithFallback(uint entries, ReadOnlySpan<IoUringSetupFlags> candidates, uint cqEntries = 0)
    {
        if (candidates.IsEmpty)
        {
            throw new ArgumentException("At least one flag set is needed.", nameof(candidates));
        }

        int error = 0;
        foreach (IoUringSetupFlags flags in candidates)
        {
            error = TryCreate(entries, flags, cqEntries, out IoUringRing? ring);
            if (error == 0)
            {
                return ring!;
            }

            if (error != (int)Errno.EINVAL)
            {
                break;
            }
        }

        throw new ErrnoException((Errno)error, $"io_uring_setup(entries {entries}, flags {candidates[^1]})");
    }

    /// <summary>
    /// A zeroed SQE slot (64 or 128 bytes) in submission order, or null when the SQ is full (submit first).
    /// With <see cref="IoUringSetupFlags.Sqe128"/> the slot is an <see cref="IoUringSqe128"/>.
    /// </summary>
    public IoUringSqe* GetSqe()
    {
        if (_sqeTail - Volatile.Read(ref *_sqHead) >= SqEntries)
        {
            return null;
        }

        byte* sqe = _sqes + ((nuint)(_sqeTail & _sqMask) * (nuint)_sqeSize);
        NativeMemory.Clear(sqe, (nuint)_sqeSize);
        _sqeTail++;
        return (IoUringSqe*)sqe;
    }

    /// <summary>Submits prepared SQEs without waiting. See <see cref="SubmitAndWait"/>.</summary>
    public int Submit() => SubmitAndWait(0);

    /// <summary>
    /// Publishes prepared SQEs, submits them and, when <paramref name="minComplete"/> &gt; 0, blocks until at least
    /// that many CQEs are ready. Returns the number of SQEs the kernel consumed in the last call.
    /// </summary>
    /// <remarks>
    /// EINTR (any signal, e.g. the runtime's) is retried unless enough CQEs are already ready. EAGAIN/EBUSY mean the
    /// kernel cannot take more work until completions are reaped: if CQEs are ready we return so the caller reaps
    /// them and calls again; otherwise we enter with GETEVENTS only (which flushes the kernel's overflow backlog
    /// into the CQ) and retry.
    /// </remarks>
    public int SubmitAndWait(uint minComplete)
    {
        // Release: the SQE contents must be visible before the kernel sees the new tail.
        Volatile.Write(ref *_sqTail, _sqeTail);

        while (true)
        {
            uint toSubmit = PendingSubmissions;
            uint enterFlags = 0;
            // DEFER_TASKRUN runs completions (including ublk's task work) only inside GETEVENTS, so always pass it.
            if (minComplete > 0 || (Flags & IoUringSetupFlags.DeferTaskrun) != 0 || HasOverflowBacklog)
            {
                enterFlags |= IoUringConstants.EnterGetEvents;
            }

            if (toSubmit == 0 && enterFlags == 0)
            {
                return 0;
            }

            int r = IoUringSyscalls.Enter(_ringFd, toSubmit, minComplete, enterFlags);
            if (r >= 0)
            {
                return r;
            }

            switch ((Errno)(-r))
            {
                case Errno.EINTR:
                    InterruptedWaits++;
                    if (ReadyCompletions >= minComplete && PendingSubmissions == 0)
                    {
                        return 0;
                    }

                    continue;

                case Errno.EAGAIN:
                case Errno.EBUSY:
                    BusyRetries++;
                    if (ReadyCompletions > 0)
                    {
                        return 0;
                    }

                    // Nothing to reap here: let the kernel flush its backlog, then try again.
                    _ = IoUringSyscalls.Enter(_ringFd, 0, 0, IoUringConstants.EnterGetEvents);
                    Thread.Yield();
                    continue;

                default:
                    ErrnoException.ThrowNegative(r, "io_uring_enter");
                    return r;
            }
        }
    }

    /// <summary>Copies out the next CQE and frees its slot; false when the CQ is empty.</summary>
    public bool TryGetCompletion(out io_uring_cqe cqe)
    {
        uint head = *_cqHead;
        // Acquire: CQE contents are valid once we observe the tail that covers them.
        if (head == Volatile.Read(ref *_cqTail))
        {
            cqe = default;
            return false;
        }

        cqe = _cqes[head & _cqMask];
        // Release: the kernel may reuse the slot as soon as it sees the new head.
        Volatile.Write(ref *_cqHead, head + 1);
        return true;
    }

    public void Dispose()
    {
        // Unmap first, then close: closing the fd lets the kernel tear down the rings (and cancel pending work).
        _sqeArray.Dispose();
        _cqRingSeparate?.Dispose();
        _rings.Dispose();
        _ringFd.Dispose();
    }

    private static int TryCreate(uint entries, IoUringSetupFlags flags, uint cqEntries, out IoUringRing? ring)
    {
        ring = null;
        IoUringParams p = default;
        p.Flags = flags;
        if (cqEntries > 0)
        {
            p.Flags |= IoUringSetupFlags.CqSize;
            p.CqEntries = cqEntries;
        }

        int fd = IoUringSyscalls.Setup(entries, &p);
        if (fd < 0)
        {
            return -fd;
        }

        var ringFd = new FileDescriptorHandle(fd);
        MappedRegion? rings = null;
        MappedRegion? cqRing = null;
        MappedRegion? sqes = null;
        try
        {
            int prot = LibC.PROT_READ | LibC.PROT_WRITE;
            int mapFlags = LibC.MAP_SHARED | LibC.MAP_POPULATE;
            nuint sqRingSize = p.SqOff.Array + (p.SqEntries * sizeof(uint));
            nuint cqRingSize = p.CqOff.Cqes + (p.CqEntries * (nuint)CqeSize);
            if ((p.Features & IoUringFeatures.SingleMmap) != 0)
            {
                rings = MappedRegion.Map(fd, Math.Max(sqRingSize, cqRingSize), prot, mapFlags, IoUringConstants.OffSqRing, "io_uring rings");
            }
            else
            {
                rings = MappedRegion.Map(fd, sqRingSize, prot, mapFlags, IoUringConstants.OffSqRing, "io_uring SQ ring");
                cqRing = MappedRegion.Map(fd, cqRingSize, prot, mapFlags, IoUringConstants.OffCqRing, "io_uring CQ ring");
            }

            nuint sqeSize = (p.Flags & IoUringSetupFlags.Sqe128) != 0 ? 128u : 64u;
            sqes = MappedRegion.Map(fd, p.SqEntries * sqeSize, prot, mapFlags, IoUringConstants.OffSqes, "io_uring SQEs");
            ring = new IoUringRing(ringFd, p, rings, cqRing, sqes);
            return 0;
        }
        catch
        {
            sqes?.Dispose();
            cqRing?.Dispose();
            rings?.Dispose();
            ringFd.Dispose();
            throw;
        }
    }
}
