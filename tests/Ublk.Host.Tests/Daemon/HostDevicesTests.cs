using S3Block.Ublk.Daemon;
using S3Block.Ublk.Device;
using S3Block.Ublk.Interop;

namespace S3Block.Ublk.Tests.Daemon;

/// <summary>How <c>s3block list</c> joins the driver's devices with the device records and /proc/mounts.</summary>
public sealed class HostDevicesTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"s3block-hostdevices-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    [Fact]
    public void EachDeviceGetsTheVolumeWhoseRecordNamesItAndItsOwnMountsAndPartitions()
    {
        UblkDeviceStatus[] kernel =
        [
            new(3, UblkDevState.Quiesced, 1, 64, 4321, 1L << 30),
            new(0, UblkDevState.Live, 2, 128, 1234, 10L << 30),
            new(1, UblkDevState.Dead, 1, 128, -1, null),
        ];
        var records = new Dictionary<int, string> { [0] = "vol1", [3] = "vol3", [7] = "stale" };
        (string, string)[] mounts =
        [
            ("/dev/ublkb0", "/mnt/a"), ("/dev/ublkb0p2", "/mnt/b"), ("/dev/ublkb10", "/mnt/not-0"), ("/dev/sda1", "/"),
            ("/dev/ublkb0px", "/mnt/not-a-partition"),
        ];

        var devices = HostDevices.Join(kernel, records, mounts, pid => pid == 1234);

        Assert.Equal([0, 1, 3], devices.Select(d => d.Kernel.DeviceId));
        Assert.Equal(("vol1", true), (devices[0].Volume, devices[0].ServerRunning));
        Assert.Equal(["/mnt/a", "/mnt/b"], devices[0].MountPoints);
        Assert.Equal((null, false, 0), (devices[1].Volume, devices[1].ServerRunning, devices[1].MountPoints.Count));
        Assert.Equal(("vol3", false), (devices[2].Volume, devices[2].ServerRunning));
    }

    [Fact]
    public void DeviceRecordsAreReadFromEveryVolumeFolderOfTheStateDirectory()
    {
        DeviceRecord.Write(Path.Combine(_state, "vol1", DeviceRecord.FileName), 0);
        DeviceRecord.Write(Path.Combine(_state, "vol2", DeviceRecord.FileName), 5);
        Directory.CreateDirectory(Path.Combine(_state, "vol3")); // a volume not served here
        File.WriteAllText(Path.Combine(_state, "node-id"), "a file, not a volume folder");
        Directory.CreateDirectory(Path.Combine(_state, "bad"));
        File.WriteAllText(Path.Combine(_state, "bad", DeviceRecord.FileName), "{ not json");

        var volumes = DeviceRecord.ReadAll(_state);

        Assert.Equal(new Dictionary<int, string> { [0] = "vol1", [5] = "vol2" }, volumes);
        Assert.Empty(DeviceRecord.ReadAll(Path.Combine(_state, "missing")));
    }
}
