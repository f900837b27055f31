using Ublk.Server.Interop;

namespace Ublk.Server.Device;

/// <summary>What the kernel says about one existing ublk device (any owner), for <c>s3block list</c>.</summary>
/// <param name="DeviceId">N in /dev/ublkbN.</param>
/// <param name="State">GET_DEV_INFO's state; null when the control device could not be opened (not root).</param>
/// <param name="Queues">Hardware queues; null when unknown.</param>
/// <param name="QueueDepth">Tags per queue; null when unknown.</param>
/// <param name="ServerPid">The pid of the server that started (or recovered) it; -1 once stopped, 0 if never started; null when unknown.</param>
/// <param name="SizeBytes">Capacity from GET_PARAMS (or sysfs); null when neither has it.</param>
/// <param name="ServerTag">The owner tag its creator stored at ADD_DEV (<see cref="UblkDeviceOptions.ServerTag"/>,
/// <c>dev_info.ublksrv_flags</c>); null when unknown.</param>
public sealed record UblkDeviceStatus(
    int DeviceId, UblkDevState? State, int? Queues, int? QueueDepth, int? ServerPid, long? SizeBytes, ulong? ServerTag = null)
{
    public string BlockDevicePath => UblkConstants.BlockDevicePath(DeviceId);
}
