namespace S3Block.Ublk.Daemon;

/// <summary>The ublk devices on this host, or why there are none to show (e.g. the driver is not loaded).</summary>
/// <param name="DriverLoaded">Whether /dev/ublk-control exists.</param>
/// <param name="Devices">The devices, by id.</param>
/// <param name="KernelStateKnown">False when the control device could not be opened (not root): state, queues and pid are unknown.</param>
internal sealed record HostDeviceScan(bool DriverLoaded, IReadOnlyList<HostDevice> Devices, bool KernelStateKnown = true)
{
    public static HostDeviceScan NoDriver { get; } = new(false, []);
}
