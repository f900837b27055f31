using Tmds.Linux;

namespace Ublk.Server.Interop;

/// <summary>
/// The three io_uring system calls, through Tmds.LibC. Results are returned kernel-style: ≥ 0, or <c>-errno</c>.
/// <see cref="IoUringParams"/> is passed as Tmds.LibC's <c>io_uring_params</c>: the same kernel struct, and
/// <c>StructLayoutTests</c> checks that both have the same size and field offsets.
/// </summary>
internal static unsafe class IoUringSyscalls
{
    /// <summary>io_uring_setup(entries, params): the new ring fd, or <c>-errno</c>.</summary>
    public static int Setup(uint entries, IoUringParams* parameters)
    {
        int r = LibC.io_uring_setup(entries, (io_uring_params*)parameters);
        return r < 0 ? -LibC.errno : r;
    }

    /// <summary>io_uring_enter(fd, to_submit, min_complete, flags, NULL, 0): submitted count, or <c>-errno</c>.</summary>
    public static int Enter(FileDescriptorHandle ring, uint toSubmit, uint minComplete, uint flags)
    {
        bool added = false;
        try
        {
            ring.DangerousAddRef(ref added);
            int r = LibC.io_uring_enter(ring.Fd, toSubmit, minComplete, flags, null);
            return r < 0 ? -LibC.errno : r;
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
            int r = LibC.io_uring_register(ring.Fd, opcode, arg, count);
            return r < 0 ? -LibC.errno : r;
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
