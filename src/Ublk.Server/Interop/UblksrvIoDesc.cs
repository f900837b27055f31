using System.Runtime.InteropServices;

namespace Ublk.Server.Interop;

/// <summary>
/// <c>struct ublksrv_io_desc</c> (24 bytes): one entry per tag in the read-only descriptor array the server mmaps
/// from /dev/ublkcN (§2.3).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct UblksrvIoDesc
{
    /// <summary>Bits 0–7: <see cref="UblkIoOp"/>; bits 8–31: <see cref="UblkIoFlags"/>.</summary>
    [FieldOffset(0)] public uint OpFlags;

    /// <summary>Length in 512-byte sectors (nr_zones for REPORT_ZONES).</summary>
    [FieldOffset(4)] public uint NrSectors;

    /// <summary>Start in 512-byte sectors.</summary>
    [FieldOffset(8)] public ulong StartSector;

    /// <summary>The buffer registered for this tag (informational).</summary>
    [FieldOffset(16)] public ulong Addr;

    public readonly UblkIoOp Op => (UblkIoOp)(OpFlags & 0xFF);

    public readonly UblkIoFlags IoFlags => (UblkIoFlags)(OpFlags & ~0xFFu);
}
