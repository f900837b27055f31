namespace S3Block.Ublk.Daemon;

/// <summary>The ublk devices on this host, or why there are none to show (e.g. the driver is not loaded).</summary>
/// <param name="DriverLoaded">Whether /dev/ublk-control exists.</param>
/// <param name="Devices">The devices, by id.</param>
/// <param name="KernelStateUnknownBecause">Set when the control device could not be used (not root, io_uring disabled):
/// state, queues and pid are then unknown.</param>
internal sealed record HostDeviceScan(bool DriverLoaded, IReadOnlyList<HostDevice> Devices, string? KernelStateUnknownBecause = null)
{
    public static HostDeviceScan NoDriver { get; } = new(false, []);
}
