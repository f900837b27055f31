using System.Runtime.InteropServices;

namespace Ublk.Server.Interop;

/// <summary>
/// <c>struct ublksrv_ctrl_cmd</c> (32 bytes): the payload of a control command, placed at SQE offset 48
/// of a 128-byte SQE (docs/ublk-protocol.md §1.4).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct UblksrvCtrlCmd
{
    /// <summary>Target device; <see cref="UblkConstants.AutoDeviceId"/> in ADD_DEV means "allocate".</summary>
    [FieldOffset(0)] public uint DevId;

    /// <summary>Must be 0xFFFF for ADD_DEV.</summary>
    [FieldOffset(4)] public ushort QueueId;

    /// <summary>Length of the buffer at <see cref="Addr"/>.</summary>
    [FieldOffset(6)] public ushort Len;

    /// <summary>User pointer to the command's buffer (dev_info, params, features).</summary>
    [FieldOffset(8)] public ulong Addr;

    /// <summary>Inline argument: the server pid for START_DEV / END_USER_RECOVERY.</summary>
    [FieldOffset(16)] public ulong Data0;

    /// <summary>6.2+: unprivileged / GET_DEV_INFO2 only. In 6.1 bytes 24..31 are data[1].</summary>
    [FieldOffset(24)] public ushort DevPathLen;

    [FieldOffset(26)] public ushort Pad;
    [FieldOffset(28)] public uint Reserved;
}
