using System.Runtime.InteropServices;

namespace Ublk.Server.Interop;

/// <summary><c>struct ublksrv_io_cmd</c> (16 bytes at SQE offset 48): FETCH_REQ / COMMIT_AND_FETCH_REQ payload (§2.4).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct UblksrvIoCmd
{
    [FieldOffset(0)] public ushort QId;
    [FieldOffset(2)] public ushort Tag;

    /// <summary>COMMIT only: bytes transferred, 0 for non-data ops, or <c>-errno</c>.</summary>
    [FieldOffset(4)] public int Result;

    /// <summary>The tag's buffer (0 with USER_COPY).</summary>
    [FieldOffset(8)] public ulong Addr;
}
