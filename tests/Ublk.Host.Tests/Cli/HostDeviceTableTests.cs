using S3Block.Ublk.Cli;
using S3Block.Ublk.Daemon;
using Ublk.Server.Device;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Tests.Cli;

/// <summary>The "devices on this host" part of <c>s3block list</c>.</summary>
public sealed class HostDeviceTableTests
{
    [Fact]
    public void WithoutTheDriverItIsOneLineNotAnError()
    {
        Assert.Equal(["devices on this host: none (the ublk_drv kernel module is not loaded)"], Lines(HostDeviceScan.NoDriver));
    }

    [Fact]
    public void WithTheDriverButNoDevicesItSaysZero()
    {
        Assert.Equal(["devices on this host: 0"], Lines(new HostDeviceScan(true, [])));
    }

    [Fact]
    public void EachDeviceShowsStatePathSizeQueuesPidVolumeAndMounts()
    {
        var scan = new HostDeviceScan(true,
        [
            new(new UblkDeviceStatus(0, UblkDevState.Live, 2, 128, 1234, 1L << 30), true, "vol1", ["/mnt/a", "/mnt/b"], DeviceBinding.Bound),
            new(new UblkDeviceStatus(1, UblkDevState.Quiesced, 1, 64, 999, 10L << 30), false, "vol2", [], DeviceBinding.Bound),
            new(new UblkDeviceStatus(2, UblkDevState.Dead, 1, 64, -1, null), false, null, []),
        ]);

        var lines = Lines(scan);

        Assert.Equal("devices on this host: 3", lines[0]);
        Assert.Equal(["ID", "DEVICE", "STATE", "SIZE", "QUEUES", "PID", "VOLUME", "MOUNTED"], Words(lines[1]));
        Assert.Equal(["0", "/dev/ublkb0", "live", "1GiB", "2x128", "1234", "vol1", "/mnt/a,/mnt/b"], Words(lines[2]));
        Assert.Equal(["1", "/dev/ublkb1", "quiesced", "10GiB", "1x64", "999", "(exited)", "vol2", "no"], Words(lines[3]));
        Assert.Equal(["2", "/dev/ublkb2", "dead", "?", "1x64", "-", "-", "no"], Words(lines[4]));
        Assert.Equal(5, lines.Length);
        Assert.Equal(lines[1].IndexOf("VOLUME", StringComparison.Ordinal), lines[3].IndexOf("vol2", StringComparison.Ordinal));
    }

    [Fact]
    public void WithoutTheControlDeviceTheKernelStateIsMarkedUnknownAndExplained()
    {
        var scan = new HostDeviceScan(true, [new(new UblkDeviceStatus(4, null, null, null, null, 1L << 30), false, "vol1", [], DeviceBinding.RecordOnly)],
            "permission denied opening /dev/ublk-control: the ublk server must run as root (CAP_SYS_ADMIN)");

        var lines = Lines(scan);

        Assert.Equal(["4", "/dev/ublkb4", "?", "1GiB", "?", "?", "vol1", "(record)", "no"], Words(lines[2]));
        Assert.Equal("(state, queues and pid unknown: permission denied opening /dev/ublk-control: the ublk server must run as root (CAP_SYS_ADMIN))", lines[3]);
    }

    [Fact]
    public void TheVolumeColumnSaysHowTheDeviceIsBound()
    {
        var kernel = new UblkDeviceStatus(3, UblkDevState.Quiesced, 1, 64, 77, 1L << 30, 0x5342_0000_0000_0001);
        Assert.Equal("vol1", HostDeviceTable.VolumeLabel(new(kernel, false, "vol1", [], DeviceBinding.Bound)));
        Assert.Equal("vol1 (record)", HostDeviceTable.VolumeLabel(new(kernel, false, "vol1", [], DeviceBinding.RecordOnly)));
        Assert.Equal("(s3block, unclaimed)", HostDeviceTable.VolumeLabel(new(kernel, false, null, [], DeviceBinding.UnclaimedS3Block)));
        Assert.Equal("(not s3block)", HostDeviceTable.VolumeLabel(new(kernel, false, null, [], DeviceBinding.NotS3Block)));
        Assert.Equal("-", HostDeviceTable.VolumeLabel(new(kernel, false, null, [], DeviceBinding.None)));
    }

    private static string[] Lines(HostDeviceScan scan)
    {
        using var output = new StringWriter();
        HostDeviceTable.Write(output, scan);
        return output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
    }

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
