using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Ublk.Server.Interop;

/// <summary>An owned mmap(2) region; munmap'd exactly once.</summary>
internal sealed unsafe class MappedRegion : SafeHandle
{
    private MappedRegion(void* address, nuint length)
        : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle((IntPtr)address);
        Length = length;
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public nuint Length { get; }

    /// <summary>The first byte of the mapping. Valid while this object is alive and not disposed.</summary>
    public byte* Pointer => (byte*)handle;

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/> at <paramref name="offset"/>.</summary>
    public static MappedRegion Map(FileDescriptorHandle fd, nuint length, int protection, int flags, long offset, string what)
    {
        bool added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            return Map(fd.Fd, length, protection, flags, offset, what);
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>Maps by raw fd: only for the io_uring ring, which owns that fd and outlives the call.</summary>
    public static MappedRegion Map(int fd, nuint length, int protection, int flags, long offset, string what)
    {
        void* address = LibC.mmap(null, (size_t)(ulong)length, protection, flags, fd, offset);
        if (address == LibC.MAP_FAILED)
        {
            ErrnoException.ThrowLast($"mmap({what}, length {length}, offset {offset})");
        }

        return new MappedRegion(address, length);
    }

    protected override bool ReleaseHandle() => LibC.munmap((void*)handle, (size_t)(ulong)Length) == 0;
}
