using System.Runtime.InteropServices;

namespace S3Block.Ublk.Interop;

/// <summary>The three io_uring system calls, through syscall(2). Results are returned kernel-style: ≥ 0, or <c>-errno</c>.</summary>
internal static unsafe class IoUringSyscalls
{
    /// <summary>io_uring_setup(entries, params): the new ring fd, or <c>-errno</c>.</summary>
    public static int Setup(uint entries, IoUringParams* parameters)
    {
        long r = Libc.Syscall(IoUringConstants.SysIoUringSetup, entries, (long)parameters, 0, 0, 0, 0);
        return r < 0 ? -Marshal.GetLastPInvokeError() : (int)r;
    }

    /// <summary>io_uring_enter(fd, to_submit, min_complete, flags, NULL, 0): submitted count, or <c>-errno</c>.</summary>
    public static int Enter(FileDescriptorHandle ring, uint toSubmit, uint minComplete, uint flags)
    {
        bool added = false;
        try
        {
            ring.DangerousAddRef(ref added);
            long r = Libc.Syscall(IoUringConstants.SysIoUringEnter, ring.Fd, toSubmit, minComplete, flags, 0, 0);
            return r < 0 ? -Marshal.GetLastPInvokeError() : (int)r;
        }
        finally
        {
            if (added)
            {
                ring.DangerousRelease();
            }
        }
    }

    /// <summary>io_uring_register(fd, opcode, arg, nr_args): result, or <c>-errno</c>.</summary>
    public static int Register(FileDescriptorHandle ring, uint opcode, void* arg, uint count)
    {
        bool added = false;
        try
        {
            ring.DangerousAddRef(ref added);
            long r = Libc.Syscall(IoUringConstants.SysIoUringRegister, ring.Fd, opcode, (long)arg, count, 0, 0);
            return r < 0 ? -Marshal.GetLastPInvokeError() : (int)r;
        }
        finally
        {
            if (added)
            {
                ring.DangerousRelease();
            }
        }
    }
}
