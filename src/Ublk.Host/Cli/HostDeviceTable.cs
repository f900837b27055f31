using S3Block.Ublk.Configuration;
using S3Block.Ublk.Daemon;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Cli;

/// <summary>The "devices on this host" part of <c>s3block list</c>.</summary>
internal static class HostDeviceTable
{
    public static void Write(TextWriter output, HostDeviceScan scan)
    {
        if (!scan.DriverLoaded)
        {
            // Not an error: list still answers for the store on machines that only manage volumes.
            output.WriteLine("devices on this host: none (the ublk_drv kernel module is not loaded)");
            return;
        }

        output.WriteLine($"devices on this host: {scan.Devices.Count}");
        if (scan.Devices.Count == 0)
        {
            return;
        }

        output.WriteLine($"{"ID",-4} {"DEVICE",-13} {"STATE",-9} {"SIZE",8} {"QUEUES",-8} {"PID",-14} {"VOLUME",-24} MOUNTED");
        foreach (var device in scan.Devices)
        {
            var k = device.Kernel;
            var queues = k.Queues is { } q ? $"{q}x{k.QueueDepth}" : "?";
            var size = k.SizeBytes is { } bytes ? ByteSize.Format(bytes) : "?";
            var mounted = device.MountPoints.Count == 0 ? "no" : string.Join(",", device.MountPoints);
            output.WriteLine($"{k.DeviceId,-4} {k.BlockDevicePath,-13} {StateLabel(k.State),-9} {size,8} {queues,-8} " +
                             $"{PidLabel(k.ServerPid, device.ServerRunning),-14} {VolumeLabel(device),-24} {mounted}");
        }

        if (scan.KernelStateUnknownBecause is { } reason)
        {
            output.WriteLine($"(state, queues and pid unknown: {reason})");
        }
    }

    /// <summary>The volume the device is bound to, and how sure that is (deploy/README.md, "Device binding").</summary>
    public static string VolumeLabel(HostDevice device) => device.Binding switch
    {
        DeviceBinding.Bound => device.Volume ?? "-",
        DeviceBinding.RecordOnly => $"{device.Volume} (record)",
        DeviceBinding.UnclaimedS3Block => "(s3block, unclaimed)",
        DeviceBinding.NotS3Block => "(not s3block)",
        _ => "-",
    };

    /// <summary>The driver's state names (UBLK_S_DEV_*), lower case.</summary>
    public static string StateLabel(UblkDevState? state) => state switch
    {
        null => "?",
        UblkDevState.Live => "live",
        UblkDevState.Quiesced => "quiesced",
        UblkDevState.Dead => "dead",
        UblkDevState.FailIo => "fail-io",
        _ => $"state {(int)state}",
    };

    /// <summary>The server's pid; a quiesced device keeps the pid of the server that crashed, so say it is gone.</summary>
    public static string PidLabel(int? pid, bool running) => pid switch
    {
        null => "?",
        <= 0 => "-",
        _ when running => $"{pid}",
        _ => $"{pid} (exited)",
    };
}
