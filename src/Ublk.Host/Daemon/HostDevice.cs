using Ublk.Server.Device;

namespace S3Block.Ublk.Daemon;

/// <summary>One ublk device on this host as <c>s3block list</c> shows it: the kernel's view joined with ours.</summary>
/// <param name="Kernel">What the driver reports.</param>
/// <param name="ServerRunning">Whether <see cref="UblkDeviceStatus.ServerPid"/> is a running process.</param>
/// <param name="Volume">The volume this device is bound to (see <see cref="Binding"/>); null if none.</param>
/// <param name="MountPoints">Where the device or one of its partitions is mounted.</param>
/// <param name="Binding">How <paramref name="Volume"/> is known.</param>
internal sealed record HostDevice(
    UblkDeviceStatus Kernel, bool ServerRunning, string? Volume, IReadOnlyList<string> MountPoints, DeviceBinding Binding = DeviceBinding.None);
