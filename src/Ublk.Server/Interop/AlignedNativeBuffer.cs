using System.Buffers;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Ublk.Server.Interop;

/// <summary>
/// Page-aligned native memory exposed as <see cref="Memory{T}"/>. The kernel copies request data into and out of
/// these buffers by address (docs/ublk-protocol.md §2.7), so they must never move: never a managed array.
/// </summary>
internal sealed unsafe class AlignedNativeBuffer : MemoryManager<byte>
{
    public const int PageSize = 4096;

    private byte* _pointer;

    public AlignedNativeBuffer(int length, int alignment = PageSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        Length = length;
        // Not cleared: pages are committed lazily on first touch, and every byte handed to the kernel is written first.
        _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)length, (nuint)alignment);
    }

    public int Length { get; }

    /// <summary>The buffer's address, as passed to the kernel in FETCH/COMMIT commands.</summary>
    public ulong Address => (ulong)_pointer;

    public byte* Pointer => _pointer;

    /// <summary>Whether <see cref="TryLock"/> succeeded (the range counts in the process's VmLck).</summary>
    public bool Locked { get; private set; }

    /// <summary>
    /// mlock2(MLOCK_ONFAULT): every page of the buffer stays in RAM once touched (never swapped out, so serving a
    /// request never waits for swap-in, which may need I/O), without committing untouched pages now. The whole length
    /// counts against RLIMIT_MEMLOCK unless the process has CAP_IPC_LOCK. Returns errno (ENOMEM or EPERM: over the
    /// limit), or <see cref="Errno.None"/>.
    /// </summary>
    public Errno TryLock()
    {
        ObjectDisposedException.ThrowIf(_pointer == null, this);
        if (!Locked)
        {
            if (LibC.mlock2(_pointer, (size_t)(ulong)Length, LibC.MLOCK_ONFAULT) != 0)
            {
                return (Errno)Marshal.GetLastPInvokeError();
            }

            Locked = true;
        }

        return Errno.None;
    }

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_pointer == null, this);
        return new Span<byte>(_pointer, Length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ObjectDisposedException.ThrowIf(_pointer == null, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)Length, nameof(elementIndex));
        return new MemoryHandle(_pointer + elementIndex);
    }

    public override void Unpin()
    {
        // Native memory never moves.
    }

    protected override void Dispose(bool disposing)
    {
        if (_pointer != null)
        {
            if (Locked)
            {
                // The allocator may keep the pages for other memory: they must not stay locked.
                _ = LibC.munlock(_pointer, (size_t)(ulong)Length);
                Locked = false;
            }

            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
        }
    }
}
