using System.Runtime.InteropServices;

namespace Ublk.Server.Interop;

/// <summary><c>struct ublksrv_ctrl_dev_info</c> (64 bytes): ADD_DEV input/output and GET_DEV_INFO output (§1.6).</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct UblksrvCtrlDevInfo
{
    [FieldOffset(0)] public ushort NrHwQueues;
    [FieldOffset(2)] public ushort QueueDepth;

    /// <summary>Out: <see cref="UblkDevState"/>.</summary>
    [FieldOffset(4)] public ushort State;

    [FieldOffset(6)] public ushort Pad0;

    /// <summary>Per-tag buffer size and maximum I/O size; the kernel rounds it down to the page size.</summary>
    [FieldOffset(8)] public uint MaxIoBufBytes;

    [FieldOffset(12)] public uint DevId;

    /// <summary>Set by START_DEV / END_USER_RECOVERY, -1 after stop.</summary>
    [FieldOffset(16)] public int UblksrvPid;

    [FieldOffset(20)] public uint Pad1;

    /// <summary>In: requested <see cref="UblkFeatures"/>; out: negotiated.</summary>
    [FieldOffset(24)] public ulong Flags;

    /// <summary>Opaque to the kernel: copied in at ADD_DEV, returned by GET_DEV_INFO, never changed until DEL_DEV (not by
    /// a server's death nor by user recovery). S3Block keeps its owner tag here (<c>UblkDeviceOptions.ServerTag</c>).</summary>
    [FieldOffset(32)] public ulong UblksrvFlags;

    /// <summary>6.2+ (6.1: reserved0).</summary>
    [FieldOffset(40)] public uint OwnerUid;

    [FieldOffset(44)] public uint OwnerGid;
    [FieldOffset(48)] public ulong Reserved1;
    [FieldOffset(56)] public ulong Reserved2;
}
