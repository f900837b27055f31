using S3Block.Ublk.Device;
using S3Block.Ublk.Interop;

namespace S3Block.Ublk.Daemon;

/// <summary>Host-side facts about ublk block devices that several verbs check before acting.</summary>
internal static class BlockDevices
{
    /// <summary>Throws a clear error when the ublk_drv module is not loaded.</summary>
    public static void RequireUblkDriver()
    {
        if (!File.Exists(UblkConstants.ControlDevicePath))
        {
            throw new UblkDeviceException($"{UblkConstants.ControlDevicePath} is missing: the ublk_drv kernel module is not loaded (modprobe ublk_drv)");
        }
    }

    /// <summary>Where a block device is mounted, from /proc/mounts.</summary>
    public static List<string> MountPoints(string device) =>
        [.. File.ReadLines("/proc/mounts").Select(l => l.Split(' ')).Where(f => f.Length > 1 && f[0] == device).Select(f => f[1])];
}
