using System.Runtime.InteropServices;
using Ublk.Server.Interop;
using Ublk.Server.IoUring;
using Tmds.Linux;

namespace Ublk.Server.Device;

/// <summary>A finished request: the tag and the result to COMMIT (bytes, 0, or -errno).</summary>
internal readonly record struct TagCompletion(int Tag, int Result);

/// <summary>
/// Carries (tag, result) pairs from any thread (backend completions on the thread pool) back to one queue thread,
/// and wakes that thread through an eventfd whose READ is armed in the queue's io_uring (docs/ublk-protocol.md §3.4).
/// </summary>
/// <remarks>
/// <para><b>The queue.</b> An intrusive lock-free stack indexed by tag: <c>_next[tag]</c> links entries and
/// <c>_head</c> is the top (-1 = empty). Producers push with a CAS loop; the single consumer takes the whole stack
/// with one <see cref="Interlocked.Exchange(ref int, int)"/> and never pops single entries, so the push CAS cannot
/// suffer ABA (a pushed entry's link is always the head it observed). Each tag is posted at most once per request
/// and cannot be posted again before the consumer has taken it and committed it, so the stack never holds more than
/// <c>capacity</c> entries and needs no allocation.</para>
/// <para><b>The wake protocol</b>, step by step:</para>
/// <list type="number">
/// <item>Producer: store the result in <c>_results[tag]</c>, then push the tag (the CAS is a full fence, so the
/// result is visible to whoever takes the tag).</item>
/// <item>Producer: <c>Interlocked.Exchange(ref _signalled, 1)</c>. Only if it was 0, <c>write(eventfd, 1)</c>;
/// otherwise a wake-up is already pending and this completion rides along (coalescing: one syscall per batch).</item>
/// <item>Kernel: the eventfd becomes readable; the armed IORING_OP_READ completes with a CQE on the queue ring
/// (resetting the counter to 0), waking the queue thread inside io_uring_enter.</item>
/// <item>Consumer (<see cref="TakeAll"/>): first <c>Interlocked.Exchange(ref _signalled, 0)</c>, then take the
/// whole stack. Clearing before taking is what makes it race-free: a producer that saw 1 pushed before our clear,
/// so our take sees its entry; a producer that pushes after our take sees 0 and writes the eventfd again.
/// The worst case is a spurious wake-up that finds the stack empty.</item>
/// <item>Consumer: COMMIT_AND_FETCH each taken tag, then re-arm the READ (<see cref="PrepareWakeupRead"/>). A write
/// that landed between the READ's completion and the re-arm leaves the counter non-zero, so the new READ
/// completes immediately: no wake-up is lost.</item>
/// </list>
/// </remarks>
internal sealed unsafe class CompletionChannel : IDisposable
{
    private const int Empty = -1;

    private readonly FileDescriptorHandle _eventFd;
    private readonly int[] _next;
    private readonly int[] _results;
    private readonly ulong* _readBuffer;
    private int _head = Empty;
    private int _signalled;
    private long _wakeupWrites;
    private bool _disposed;

    public CompletionChannel(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _next = new int[capacity];
        _results = new int[capacity];
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC);
        if (fd < 0)
        {
            ErrnoException.ThrowLast("eventfd");
        }

        _eventFd = new FileDescriptorHandle(fd);
        // The READ target must stay put while the kernel may write it: native memory.
        _readBuffer = (ulong*)NativeMemory.AllocZeroed(sizeof(ulong));
    }

    public int Capacity => _next.Length;

    /// <summary>eventfd writes so far (coalescing makes this ≤ the number of posts).</summary>
    public long WakeupWrites => Volatile.Read(ref _wakeupWrites);

    /// <summary>Any thread: hands a finished tag back to the queue thread and wakes it if needed.</summary>
    public void Post(int tag, int result)
    {
        _results[tag] = result;
        int head;
        do
        {
            head = Volatile.Read(ref _head);
            _next[tag] = head;
        }
        while (Interlocked.CompareExchange(ref _head, tag, head) != head);

        Wake();
    }

    /// <summary>Any thread: wakes the queue thread (if no wake-up is pending) without posting anything.</summary>
    public void Wake()
    {
        if (Interlocked.Exchange(ref _signalled, 1) == 0)
        {
            Interlocked.Increment(ref _wakeupWrites);
            ulong one = 1;
            long written;
            bool added = false;
            try
            {
                _eventFd.DangerousAddRef(ref added);
                do
                {
                    written = LibC.write(_eventFd.Fd, &one, sizeof(ulong));
                }
                while (written < 0 && LibC.errno == (int)Errno.EINTR);
            }
            catch (ObjectDisposedException)
            {
                return; // the queue already exited: nobody to wake
            }
            finally
            {
                if (added)
                {
                    _eventFd.DangerousRelease();
                }
            }

            if (written != sizeof(ulong))
            {
                // Only an overflowed counter or a closed fd can get here; either way the queue can no longer be woken.
                Environment.FailFast($"ublk completion eventfd write failed: {(Errno)Marshal.GetLastPInvokeError()}");
            }
        }
    }

    /// <summary>Queue thread: fills <paramref name="sqe"/> with the eventfd READ; its CQE carries <paramref name="userData"/>.</summary>
    public void PrepareWakeupRead(IoUringSqe* sqe, ulong userData) =>
        SqePrep.Read(sqe, _eventFd, _readBuffer, sizeof(ulong), 0, userData);

    /// <summary>
    /// Queue thread, after the READ's CQE: clears the signalled flag, then takes every posted completion
    /// (in no particular order). Returns how many were written to <paramref name="destination"/>.
    /// </summary>
    public int TakeAll(Span<TagCompletion> destination)
    {
        Interlocked.Exchange(ref _signalled, 0);
        int tag = Interlocked.Exchange(ref _head, Empty);
        int count = 0;
        while (tag != Empty)
        {
            if (count == destination.Length)
            {
                throw new InvalidOperationException("More completions than tags: a tag was posted twice.");
            }

            int next = _next[tag];
            destination[count++] = new TagCompletion(tag, _results[tag]);
            tag = next;
        }

        return count;
    }

    /// <summary>Dispose only after the ring that had the READ armed is closed.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _eventFd.Dispose();
        NativeMemory.Free(_readBuffer);
    }
}
