using Ublk.Server.Interop;

namespace Ublk.Server.Device;

/// <summary>Host-side facts about ublk block devices that several verbs check before acting.</summary>
public static class BlockDevices
{
    /// <summary>Whether the ublk_drv module is loaded (its control device exists).</summary>
    public static bool UblkDriverLoaded => File.Exists(UblkConstants.ControlDevicePath);

    /// <summary>Throws a clear error when the ublk_drv module is not loaded.</summary>
    public static void RequireUblkDriver()
    {
        if (!UblkDriverLoaded)
        {
            throw new UblkDeviceException($"{UblkConstants.ControlDevicePath} is missing: the ublk_drv kernel module is not loaded (modprobe ublk_drv)");
        }
    }

    /// <summary>
    /// Whether someone holds the block device exclusively: a filesystem mounted in any mount namespace (also ones this
    /// process cannot see), a device-mapper or md device on top, swap. An exclusive open fails with EBUSY then.
    /// </summary>
    public static bool IsHeldExclusively(string device)
    {
        var error = FileDescriptorHandle.TryOpen(device, Tmds.Linux.LibC.O_RDONLY | Libc.O_EXCL, out var handle);
        handle?.Dispose();
        return error == Errno.EBUSY;
    }

    /// <summary>Every (device, mount point) pair in /proc/mounts.</summary>
    public static List<(string Device, string MountPoint)> Mounts() =>
        [.. File.ReadLines("/proc/mounts").Select(l => l.Split(' ')).Where(f => f.Length > 1).Select(f => (f[0], f[1]))];
}
