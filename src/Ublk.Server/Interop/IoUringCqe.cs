using System.Runtime.InteropServices;

namespace S3Block.Ublk.Interop;

/// <summary><c>struct io_uring_cqe</c>, 16 bytes (we never set up CQE32).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct IoUringCqe
{
    [FieldOffset(0)] public ulong UserData;

    /// <summary>The result: ≥ 0 on success, <c>-errno</c> on failure.</summary>
    [FieldOffset(8)] public int Res;

    [FieldOffset(12)] public uint Flags;
}
