using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;

namespace Ublk.Server.Interop;

/// <summary>An owned Linux file descriptor (ring fd, /dev/ublk-control, /dev/ublkcN, eventfd). Closed exactly once.</summary>
internal sealed class FileDescriptorHandle : SafeHandle
{
    public FileDescriptorHandle()
        : base(new IntPtr(-1), ownsHandle: true)
    {
    }

    public FileDescriptorHandle(int fd)
        : base(new IntPtr(-1), ownsHandle: true)
    {
        SetHandle(new IntPtr(fd));
    }

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>
    /// The raw descriptor. Only for code that keeps this handle alive for the duration of the call
    /// (the owning ring or queue, which disposes it last).
    /// </summary>
    public int Fd => (int)handle.ToInt64();

    /// <summary>open(2) with O_CLOEXEC; throws <see cref="ErrnoException"/> naming the path.</summary>
    public static FileDescriptorHandle Open(string path, int flags)
    {
        int fd = OpenRaw(path, flags);
        if (fd < 0)
        {
            ErrnoException.ThrowLast($"open({path})");
        }

        return new FileDescriptorHandle(fd);
    }

    /// <summary>open(2) that reports failure as an errno instead of throwing (for retry loops).</summary>
    public static Errno TryOpen(string path, int flags, out FileDescriptorHandle? handle)
    {
        int fd = OpenRaw(path, flags);
        if (fd < 0)
        {
            handle = null;
            return (Errno)LibC.errno;
        }

        handle = new FileDescriptorHandle(fd);
        return Errno.None;
    }

    protected override bool ReleaseHandle() => LibC.close((int)handle.ToInt64()) == 0;

    /// <summary>open(2) with O_CLOEXEC on a NUL-terminated UTF-8 copy of <paramref name="path"/>: the fd, or -1 and errno.</summary>
    private static unsafe int OpenRaw(string path, int flags)
    {
        byte[] bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, bytes);
        fixed (byte* p = bytes)
        {
            return LibC.open(p, flags | LibC.O_CLOEXEC, 0);
        }
    }
}
