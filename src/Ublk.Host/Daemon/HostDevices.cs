using Ublk.Server.Device;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// Finds the ublk devices on this host and joins the driver's view with the daemons' device records (which volume a
/// device serves: the device's owner tag matches a record's binding) and /proc/mounts (whether a filesystem uses it).
/// </summary>
internal static class HostDevices
{
    /// <summary>Scans the real host; <paramref name="stateDirectory"/> is <c>Daemon:StateDirectory</c>.</summary>
    public static HostDeviceScan Scan(string stateDirectory)
    {
        if (!BlockDevices.UblkDriverLoaded)
        {
            return HostDeviceScan.NoDriver;
        }

        var kernel = UblkDevice.QueryExisting(out var controlProblem);
        var mounts = BlockDevices.Mounts();
        var devices = Join(kernel, DeviceRecord.ReadAll(stateDirectory, BootId.Current), mounts, UblkDevice.IsProcessRunning);
        return new HostDeviceScan(true, devices, controlProblem);
    }

    /// <summary>The pure part of <see cref="Scan"/>.</summary>
    /// <param name="kernel">The driver's devices.</param>
    /// <param name="records">This boot's device records, with their volumes.</param>
    /// <param name="mounts">(device path, mount point) pairs, as in /proc/mounts.</param>
    /// <param name="isRunning">Whether a pid is a live process.</param>
    public static IReadOnlyList<HostDevice> Join(
        IReadOnlyList<UblkDeviceStatus> kernel,
        IReadOnlyList<(string Volume, DeviceRecord Record)> records,
        IReadOnlyList<(string Device, string MountPoint)> mounts,
        Func<int, bool> isRunning) =>
        [.. kernel.OrderBy(d => d.DeviceId).Select(d =>
        {
            var (volume, binding) = BindingOf(d, records);
            return new HostDevice(
                d,
                d.ServerPid is > 0 and var pid && isRunning(pid),
                volume,
                [.. mounts.Where(m => IsDiskOrPartition(m.Device, d.DeviceId)).Select(m => m.MountPoint)],
                binding);
        })];

    /// <summary>The device's own owner tag decides; a record naming the device is only believed when the tag is unknown.</summary>
    private static (string? Volume, DeviceBinding Binding) BindingOf(UblkDeviceStatus device, IReadOnlyList<(string Volume, DeviceRecord Record)> records)
    {
        if (device.ServerTag is not { } tag)
        {
            var named = records.Where(r => r.Record.DeviceId == device.DeviceId).Select(r => r.Volume).FirstOrDefault();
            return named is null ? (null, DeviceBinding.None) : (named, DeviceBinding.RecordOnly);
        }

        string? owner = records.Where(r => r.Record.Tag == tag).Select(r => r.Volume).FirstOrDefault();
        if (owner is not null)
        {
            return (owner, DeviceBinding.Bound);
        }

        return (null, DeviceOwnerTag.IsS3Block(tag) ? DeviceBinding.UnclaimedS3Block : DeviceBinding.NotS3Block);
    }

    /// <summary>/dev/ublkbN itself or one of its partitions /dev/ublkbNpM.</summary>
    private static bool IsDiskOrPartition(string device, int deviceId)
    {
        var disk = UblkConstants.BlockDevicePath(deviceId);
        if (!device.StartsWith(disk, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = device.AsSpan(disk.Length);
        return rest.IsEmpty || (rest.Length > 1 && rest[0] == 'p' && int.TryParse(rest[1..], out _));
    }
}
