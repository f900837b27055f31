using System.Runtime.InteropServices;

namespace Ublk.Server.Interop;

/// <summary>
/// <c>struct io_uring_sqe</c>, 64 bytes. Unions are overlapping fields: <see cref="Offset"/> /
/// (<see cref="CmdOp"/>, <see cref="Pad1"/>) at 8; <see cref="OpFlags"/> (rw_flags, uring_cmd_flags) at 28;
/// <see cref="FileIndex"/> (splice_fd_in) at 44; <see cref="Addr3"/> / <see cref="Cmd"/> at 48.
/// For URING_CMD the command payload starts at <see cref="Cmd"/> (docs/ublk-protocol.md §1.3).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal unsafe struct IoUringSqe
{
    [FieldOffset(0)] public IoUringOp Opcode;
    [FieldOffset(1)] public byte Flags;
    [FieldOffset(2)] public ushort IoPrio;
    [FieldOffset(4)] public int Fd;
    [FieldOffset(8)] public ulong Offset;
    [FieldOffset(8)] public uint CmdOp;
    [FieldOffset(12)] public uint Pad1;
    [FieldOffset(16)] public ulong Addr;
    [FieldOffset(24)] public uint Len;
    [FieldOffset(28)] public uint OpFlags;
    [FieldOffset(32)] public ulong UserData;
    [FieldOffset(40)] public ushort BufIndex;
    [FieldOffset(42)] public ushort Personality;
    [FieldOffset(44)] public uint FileIndex;
    [FieldOffset(48)] public ulong Addr3;
    [FieldOffset(56)] public ulong Pad2;
    [FieldOffset(48)] public fixed byte Cmd[16];
}

/// <summary>
/// A 128-byte SQE (rings set up with <c>IORING_SETUP_SQE128</c>): the 64-byte header, with the command payload
/// growing to 80 bytes at offset 48. Control commands need it (the ublk driver rejects others with EINVAL).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal unsafe struct IoUringSqe128
{
    [FieldOffset(0)] public IoUringSqe Header;
    [FieldOffset(48)] public fixed byte Cmd[80];
}
