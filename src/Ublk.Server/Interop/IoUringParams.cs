using System.Runtime.InteropServices;

namespace Ublk.Server.Interop;

/// <summary><c>struct io_uring_params</c> (120 bytes), passed to io_uring_setup.</summary>
[StructLayout(LayoutKind.Explicit, Size = 120)]
internal unsafe struct IoUringParams
{
    [FieldOffset(0)] public uint SqEntries;
    [FieldOffset(4)] public uint CqEntries;
    [FieldOffset(8)] public IoUringSetupFlags Flags;
    [FieldOffset(12)] public uint SqThreadCpu;
    [FieldOffset(16)] public uint SqThreadIdle;
    [FieldOffset(20)] public IoUringFeatures Features;
    [FieldOffset(24)] public uint WqFd;
    [FieldOffset(28)] public fixed uint Resv[3];
    [FieldOffset(40)] public IoSqRingOffsets SqOff;
    [FieldOffset(80)] public IoCqRingOffsets CqOff;
}

/// <summary><c>struct io_sqring_offsets</c> (40 bytes): where the SQ ring's fields sit in the ring mapping.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct IoSqRingOffsets
{
    [FieldOffset(0)] public uint Head;
    [FieldOffset(4)] public uint Tail;
    [FieldOffset(8)] public uint RingMask;
    [FieldOffset(12)] public uint RingEntries;
    [FieldOffset(16)] public uint Flags;
    [FieldOffset(20)] public uint Dropped;
    [FieldOffset(24)] public uint Array;
    [FieldOffset(28)] public uint Resv1;
    [FieldOffset(32)] public ulong UserAddr;
}

/// <summary><c>struct io_cqring_offsets</c> (40 bytes): where the CQ ring's fields sit in the ring mapping.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal struct IoCqRingOffsets
{
    [FieldOffset(0)] public uint Head;
    [FieldOffset(4)] public uint Tail;
    [FieldOffset(8)] public uint RingMask;
    [FieldOffset(12)] public uint RingEntries;
    [FieldOffset(16)] public uint Overflow;
    [FieldOffset(20)] public uint Cqes;
    [FieldOffset(24)] public uint Flags;
    [FieldOffset(28)] public uint Resv1;
    [FieldOffset(32)] public ulong UserAddr;
}
