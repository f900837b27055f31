using Ublk.Server.Block;
using Ublk.Server.Device;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Tests.Device;

/// <summary>What the control plane does on a kernel without ublk_drv (this host); the rest runs in the VM.</summary>
public sealed class UblkControlTests
{
    [Fact]
    public void MissingControlDeviceSaysToLoadTheModule()
    {
        var e = Assert.Throws<UblkDeviceException>(() => UblkControl.Open("/nonexistent/ublk-control"));
        Assert.Contains("ublk_drv not loaded", e.Message);
        Assert.Contains("modprobe ublk_drv", e.Message);
        Assert.Equal(Errno.ENOENT, Assert.IsType<ErrnoException>(e.InnerException).Errno);
    }

    [Fact]
    public void CreateOnAHostWithoutUblkFailsClearly()
    {
        Assert.SkipWhen(File.Exists(UblkConstants.ControlDevicePath), "this kernel has ublk; the VM tests cover it");
        var e = Assert.Throws<UblkDeviceException>(() => UblkDevice.Create(new UblkDeviceOptions(), new NullBackend(1L << 20)));
        Assert.Contains("modprobe ublk_drv", e.Message);
    }

    [Fact]
    public void CreateValidatesBeforeTouchingTheKernel()
    {
        var e = Assert.Throws<UblkDeviceException>(() => UblkDevice.Create(new UblkDeviceOptions { LogicalBlockSize = 4096 }, new NullBackend((1L << 20) + 512)));
        Assert.Contains("not a multiple", e.Message);
    }

    [Fact]
    public void ListingWithoutUblkIsEmpty()
    {
        Assert.SkipWhen(Directory.Exists(UblkConstants.CharDeviceClassPath), "this kernel has ublk devices");
        Assert.Empty(UblkDevice.ListDeviceIds());
    }

    [Fact]
    public void ErrnoExceptionNamesTheCallAndTheError()
    {
        var e = new ErrnoException(Errno.EEXIST, "UBLK_CMD_ADD_DEV(dev 3)");
        Assert.StartsWith("UBLK_CMD_ADD_DEV(dev 3) failed: EEXIST (17)", e.Message);
        Assert.Equal(Errno.EEXIST, e.Errno);
        Assert.Equal("UBLK_CMD_ADD_DEV(dev 3)", e.Call);
    }
}
