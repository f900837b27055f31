using System.Runtime.InteropServices;

namespace Ublk.Server.Interop;

/// <summary>
/// <c>struct ublk_params</c> up to and including DEVT: 80 bytes, the 6.2–6.5 layout (§1.7). The kernel clamps
/// <see cref="Len"/> to its own size (64 on 6.1, 112 on 6.12), so sending 80 bytes is valid everywhere.
/// Never set <see cref="UblkParamTypes.Devt"/> in SET_PARAMS (6.12 answers EINVAL).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 80)]
internal struct UblkParams
{
    [FieldOffset(0)] public uint Len;
    [FieldOffset(4)] public UblkParamTypes Types;
    [FieldOffset(8)] public UblkParamBasic Basic;
    [FieldOffset(40)] public UblkParamDiscard Discard;
    [FieldOffset(60)] public UblkParamDevt Devt;
}

/// <summary><c>struct ublk_param_basic</c> (32 bytes, at params offset 8).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct UblkParamBasic
{
    [FieldOffset(0)] public UblkAttrs Attrs;
    [FieldOffset(4)] public byte LogicalBsShift;
    [FieldOffset(5)] public byte PhysicalBsShift;
    [FieldOffset(6)] public byte IoOptShift;
    [FieldOffset(7)] public byte IoMinShift;
    [FieldOffset(8)] public uint MaxSectors;
    [FieldOffset(12)] public uint ChunkSectors;

    /// <summary>Capacity in 512-byte sectors.</summary>
    [FieldOffset(16)] public ulong DevSectors;

    [FieldOffset(24)] public ulong VirtBoundaryMask;
}

/// <summary><c>struct ublk_param_discard</c> (20 bytes, at params offset 40).</summary>
[StructLayout(LayoutKind.Explicit, Size = 20)]
internal struct UblkParamDiscard
{
    [FieldOffset(0)] public uint DiscardAlignment;
    [FieldOffset(4)] public uint DiscardGranularity;
    [FieldOffset(8)] public uint MaxDiscardSectors;
    [FieldOffset(12)] public uint MaxWriteZeroesSectors;

    /// <summary>Must be 1 when <see cref="MaxDiscardSectors"/> is non-zero.</summary>
    [FieldOffset(16)] public ushort MaxDiscardSegments;

    [FieldOffset(18)] public ushort Reserved0;
}

/// <summary><c>struct ublk_param_devt</c> (16 bytes, at params offset 60): read-only, filled by GET_PARAMS (6.2+).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct UblkParamDevt
{
    [FieldOffset(0)] public uint CharMajor;
    [FieldOffset(4)] public uint CharMinor;
    [FieldOffset(8)] public uint DiskMajor;
    [FieldOffset(12)] public uint DiskMinor;
}
