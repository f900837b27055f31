using System.Buffers;
using System.Runtime.InteropServices;

namespace S3Block.Ublk.Interop;

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
            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
        }
    }
}
