namespace Ublk.Server.Interop;

/// <summary>
/// Builds cmd_op values. Legacy encoding is the bare command number (6.1); ioctl encoding is
/// <c>_IOC(dir, 'u', nr, size)</c> (6.12: required unless LEGACY_OPCODES; GET_FEATURES and DEL_DEV_ASYNC exist only this way).
/// </summary>
internal static class UblkOpcodes
{
    private const uint IocWrite = 1;
    private const uint IocRead = 2;
    private const uint IocType = 'u';

    /// <summary>sizeof(struct ublksrv_ctrl_cmd).</summary>
    private const uint CtrlCmdSize = 32;

    /// <summary>sizeof(struct ublksrv_io_cmd).</summary>
    private const uint IoCmdSize = 16;

    /// <summary>The cmd_op for a control command, e.g. ADD_DEV → 0xC0207504 (ioctl) or 0x04 (legacy).</summary>
    public static uint Control(UblkCtrlCmd command, bool ioctlEncoding)
    {
        if (!ioctlEncoding)
        {
            return (uint)command;
        }

        // _IOR for the read-only commands, _IOWR for the rest (docs/ublk-protocol.md §1.5).
        uint direction = command switch
        {
            UblkCtrlCmd.GetQueueAffinity or UblkCtrlCmd.GetDevInfo or UblkCtrlCmd.GetParams
                or UblkCtrlCmd.GetDevInfo2 or UblkCtrlCmd.GetFeatures or UblkCtrlCmd.DelDevAsync => IocRead,
            _ => IocRead | IocWrite,
        };
        return Ioc(direction, (uint)command, CtrlCmdSize);
    }

    /// <summary>The cmd_op for an I/O command, e.g. FETCH_REQ → 0xC0107520 (ioctl) or 0x20 (legacy).</summary>
    public static uint Io(UblkIoCmd command, bool ioctlEncoding) =>
        ioctlEncoding ? Ioc(IocRead | IocWrite, (uint)command, IoCmdSize) : (uint)command;

    private static uint Ioc(uint direction, uint number, uint size) =>
        (direction << 30) | (size << 16) | (IocType << 8) | number;
}
