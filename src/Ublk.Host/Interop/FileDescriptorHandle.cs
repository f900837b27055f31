using System.Runtime.InteropServices;

namespace S3Block.Ublk.Interop;

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
        int fd = Libc.Open(path, flags | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            ErrnoException.ThrowLast($"open({path})");
        }

        return new FileDescriptorHandle(fd);
    }

    /// <summary>open(2) that reports failure as an errno instead of throwing (for retry loops).</summary>
    public static Errno TryOpen(string path, int flags, out FileDescriptorHandle? handle)
    {
        int fd = Libc.Open(path, flags | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            handle = null;
            return (Errno)Marshal.GetLastPInvokeError();
        }

        handle = new FileDescriptorHandle(fd);
        return Errno.None;
    }

    protected override bool ReleaseHandle() => Libc.Close((int)handle.ToInt64()) == 0;
}
