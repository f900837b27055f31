using Ublk.Server.Interop;

namespace Ublk.Server.IoUring;

/// <summary>
/// Fills SQEs handed out by <see cref="IoUringRing.GetSqe"/> (already zeroed). The fd handles must stay open
/// until the operation completes; their owners guarantee that.
/// </summary>
internal static unsafe class SqePrep
{
    public static void Nop(IoUringSqe* sqe, ulong userData)
    {
        sqe->Opcode = IoUringOp.Nop;
        sqe->UserData = userData;
    }

    /// <summary>IORING_OP_READ at <paramref name="offset"/> (0 for eventfds and other stream files).</summary>
    public static void Read(IoUringSqe* sqe, FileDescriptorHandle fd, void* buffer, uint length, ulong offset, ulong userData)
    {
        sqe->Opcode = IoUringOp.Read;
        sqe->Fd = fd.Fd;
        sqe->Addr = (ulong)buffer;
        sqe->Len = length;
        sqe->Offset = offset;
        sqe->UserData = userData;
    }

    /// <summary>
    /// A ublk control command (IORING_OP_URING_CMD on /dev/ublk-control). The SQE must be a 128-byte slot:
    /// the 32-byte <see cref="UblksrvCtrlCmd"/> goes at offset 48 (docs/ublk-protocol.md §1.3–1.4).
    /// </summary>
    public static void UblkControl(IoUringSqe* sqe, FileDescriptorHandle controlFd, uint cmdOp, in UblksrvCtrlCmd command, ulong userData)
    {
        sqe->Opcode = IoUringOp.UringCmd;
        sqe->Fd = controlFd.Fd;
        sqe->CmdOp = cmdOp;
        sqe->UserData = userData;
        *(UblksrvCtrlCmd*)((byte*)sqe + 48) = command;
    }

    /// <summary>A ublk I/O command (FETCH_REQ, COMMIT_AND_FETCH_REQ) on /dev/ublkcN; the 16-byte payload fits a 64-byte SQE.</summary>
    public static void UblkIo(IoUringSqe* sqe, FileDescriptorHandle charDeviceFd, uint cmdOp, in UblksrvIoCmd command, ulong userData)
    {
        sqe->Opcode = IoUringOp.UringCmd;
        sqe->Fd = charDeviceFd.Fd;
        sqe->CmdOp = cmdOp;
        sqe->UserData = userData;
        *(UblksrvIoCmd*)sqe->Cmd = command;
    }
}
