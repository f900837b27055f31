using Ublk.Server.Interop;

namespace Ublk.Server.Device;

/// <summary>What a served ublk device looks like after the kernel's adjustments.</summary>
/// <param name="DeviceId">N in /dev/ublkbN and /dev/ublkcN.</param>
/// <param name="Queues">Hardware queues (the kernel clamps to the CPU count).</param>
/// <param name="QueueDepth">Tags per queue.</param>
/// <param name="MaxIoBytes">Largest request (page-rounded by the kernel).</param>
/// <param name="SizeBytes">Capacity.</param>
/// <param name="LogicalBlockSize">Logical block size in bytes.</param>
/// <param name="PhysicalBlockSize">Physical block size in bytes.</param>
/// <param name="Features">Negotiated UBLK_F_* flags.</param>
public sealed record UblkDeviceInfo(
    int DeviceId,
    int Queues,
    int QueueDepth,
    int MaxIoBytes,
    long SizeBytes,
    int LogicalBlockSize,
    int PhysicalBlockSize,
    UblkFeatures Features)
{
    public string BlockDevicePath => UblkConstants.BlockDevicePath(DeviceId);

    public string CharDevicePath => UblkConstants.CharDevicePath(DeviceId);

    /// <summary>Whether the device survives a daemon crash (UBLK_F_USER_RECOVERY).</summary>
    public bool UserRecovery => (Features & UblkFeatures.UserRecovery) != 0;

    /// <summary>Whether I/O commands are ioctl-encoded (the kernel reports CMD_IOCTL_ENCODE).</summary>
    public bool IoctlEncoding => (Features & UblkFeatures.CmdIoctlEncode) != 0;
}
