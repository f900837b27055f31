using S3Block.Ublk.Daemon;
using Ublk.Server.Device;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Tests.Daemon;

/// <summary>How <c>s3block list</c> joins the driver's devices (and their owner tags) with the device records and /proc/mounts.</summary>
public sealed class HostDevicesTests : IDisposable
{
    private const string Boot = "boot-1";

    private readonly string _state = Path.Combine(Path.GetTempPath(), $"s3block-hostdevices-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    [Fact]
    public void EachDeviceGetsTheVolumeWhoseBindingItCarriesAndItsOwnMountsAndPartitions()
    {
        var vol1 = Record(deviceId: 0);
        var vol3 = Record(deviceId: 5); // its device got id 3 after all (say, the record was written before a re-create)
        var gone = Record(deviceId: 7);
        UblkDeviceStatus[] kernel =
        [
            new(3, UblkDevState.Quiesced, 1, 64, 4321, 1L << 30, vol3.Tag),
            new(0, UblkDevState.Live, 2, 128, 1234, 10L << 30, vol1.Tag),
            new(1, UblkDevState.Dead, 1, 128, -1, null, DeviceOwnerTag.Compute(Guid.NewGuid(), Guid.NewGuid())),
            new(7, UblkDevState.Live, 1, 128, 99, null, 0x1), // the id "gone" names, now another server's
        ];
        (string, DeviceRecord)[] records = [("vol1", vol1), ("vol3", vol3), ("gone", gone)];
        (string, string)[] mounts =
        [
            ("/dev/ublkb0", "/mnt/a"), ("/dev/ublkb0p2", "/mnt/b"), ("/dev/ublkb10", "/mnt/not-0"), ("/dev/sda1", "/"),
            ("/dev/ublkb0px", "/mnt/not-a-partition"),
        ];

        var devices = HostDevices.Join(kernel, records, mounts, pid => pid == 1234);

        Assert.Equal([0, 1, 3, 7], devices.Select(d => d.Kernel.DeviceId));
        Assert.Equal(("vol1", DeviceBinding.Bound, true), (devices[0].Volume, devices[0].Binding, devices[0].ServerRunning));
        Assert.Equal(["/mnt/a", "/mnt/b"], devices[0].MountPoints);
        Assert.Equal((null, DeviceBinding.UnclaimedS3Block, false, 0), (devices[1].Volume, devices[1].Binding, devices[1].ServerRunning, devices[1].MountPoints.Count));
        Assert.Equal(("vol3", DeviceBinding.Bound, false), (devices[2].Volume, devices[2].Binding, devices[2].ServerRunning));
        Assert.Equal((null, DeviceBinding.NotS3Block), (devices[3].Volume, devices[3].Binding));
    }

    [Fact]
    public void WithoutTheOwnerTagsARecordNamingTheDeviceIsShownAsOnlyARecord()
    {
        UblkDeviceStatus[] kernel = [new(0, null, null, null, null, 1L << 30), new(1, null, null, null, null, null)];

        var devices = HostDevices.Join(kernel, [("vol1", Record(deviceId: 0))], [], _ => false);

        Assert.Equal(("vol1", DeviceBinding.RecordOnly), (devices[0].Volume, devices[0].Binding));
        Assert.Equal((null, DeviceBinding.None), (devices[1].Volume, devices[1].Binding));
    }

    [Fact]
    public void DeviceRecordsOfThisBootAreReadFromEveryVolumeFolderOfTheStateDirectory()
    {
        var vol1 = Record(deviceId: 0);
        var vol2 = Record(deviceId: null);
        DeviceRecord.Write(Path.Combine(_state, "vol1", DeviceRecord.FileName), vol1);
        DeviceRecord.Write(Path.Combine(_state, "vol2", DeviceRecord.FileName), vol2);
        DeviceRecord.Write(Path.Combine(_state, "old", DeviceRecord.FileName), vol1 with { BootId = "boot-0" });
        Directory.CreateDirectory(Path.Combine(_state, "vol3")); // a volume not served here
        File.WriteAllText(Path.Combine(_state, "node-id"), "a file, not a volume folder");
        Directory.CreateDirectory(Path.Combine(_state, "bad"));
        File.WriteAllText(Path.Combine(_state, "bad", DeviceRecord.FileName), "{ not json");
        Directory.CreateDirectory(Path.Combine(_state, "legacy"));
        File.WriteAllText(Path.Combine(_state, "legacy", DeviceRecord.FileName), "{ \"deviceId\": 4 }\n");

        var records = DeviceRecord.ReadAll(_state, Boot);

        Assert.Equal([("vol1", vol1), ("vol2", vol2)], records);
        Assert.Empty(DeviceRecord.ReadAll(Path.Combine(_state, "missing"), Boot));
    }

    private static DeviceRecord Record(int? deviceId) => new(Boot, Guid.NewGuid(), Guid.NewGuid(), deviceId);
}
