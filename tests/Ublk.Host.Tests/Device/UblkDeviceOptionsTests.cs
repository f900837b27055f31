using Ublk.Server.Device;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Tests.Device;

public sealed class UblkDeviceOptionsTests
{
    [Fact]
    public void DefaultsAreValid() => new UblkDeviceOptions().Validate(1L << 30, 512);

    [Theory]
    [InlineData(1000L, 512, "not a multiple of the logical block size 512")]
    [InlineData(0L, 512, "device size must be positive")]
    [InlineData(1L << 20, 1000, "power of two")]
    public void BadSizesAreExplained(long size, int backendBlockSize, string expected)
    {
        var e = Assert.Throws<UblkDeviceException>(() => new UblkDeviceOptions().Validate(size, backendBlockSize));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ADeviceBlockSizeLargerThanTheBackendsMustDivideTheSize()
    {
        var options = new UblkDeviceOptions { LogicalBlockSize = 4096 };
        options.Validate(1L << 20, 512);
        var e = Assert.Throws<UblkDeviceException>(() => options.Validate((1L << 20) + 512, 512));
        Assert.Contains("not a multiple of the logical block size 4096", e.Message);
    }

    [Theory]
    [InlineData(0, 128, 1 << 20, -1, "queues")]
    [InlineData(1, 0, 1 << 20, -1, "queue depth")]
    [InlineData(1, 4097, 1 << 20, -1, "queue depth")]
    [InlineData(1, 128, 1000, -1, "max I/O size")]
    [InlineData(1, 128, 64 << 20, -1, "max I/O size")]
    [InlineData(1, 128, 1 << 20, -2, "device id")]
    public void BadShapesAreExplained(int queues, int depth, int maxIo, int id, string expected)
    {
        var options = new UblkDeviceOptions { Queues = queues, QueueDepth = depth, MaxIoBytes = maxIo, DeviceId = id };
        var e = Assert.Throws<UblkDeviceException>(() => options.Validate(1L << 30, 512));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void PhysicalBlockSizeBelowLogicalIsRefused()
    {
        var options = new UblkDeviceOptions { LogicalBlockSize = 4096, PhysicalBlockSize = 512 };
        Assert.Throws<UblkDeviceException>(() => options.Validate(1L << 30, 512));
    }

    [Theory]
    [InlineData(1 << 20, 1 << 20)]
    [InlineData(3 << 20, 2 << 20)]
    [InlineData(12288, 8192)]
    public void OptimalIoDefaultsToTheLargestPowerOfTwoWithinMaxIo(int maxIo, int expected) =>
        Assert.Equal(expected, new UblkDeviceOptions().EffectiveOptimalIoBytes(maxIo));

    [Fact]
    public void ParamsCarryEverythingTheKernelChecks()
    {
        UblkParams p = UblkParamsBuilder.Build(1L << 30, 512, 4096, 1 << 20, 1 << 20, discard: true);
        Assert.Equal(80u, p.Len);
        Assert.Equal(UblkParamTypes.Basic | UblkParamTypes.Discard, p.Types); // never DEVT (6.12: EINVAL)
        Assert.Equal(UblkAttrs.VolatileCache | UblkAttrs.Fua, p.Basic.Attrs);
        Assert.Equal(9, p.Basic.LogicalBsShift);
        Assert.Equal(12, p.Basic.PhysicalBsShift);
        Assert.Equal(12, p.Basic.IoMinShift);
        Assert.Equal(20, p.Basic.IoOptShift);
        Assert.Equal(2048u, p.Basic.MaxSectors); // ≤ max_io_buf_bytes >> 9
        Assert.Equal(2097152ul, p.Basic.DevSectors);
        Assert.Equal(0u, p.Basic.ChunkSectors);
        Assert.Equal(4096u, p.Discard.DiscardGranularity);
        Assert.Equal(UblkParamsBuilder.MaxDiscardSectors, p.Discard.MaxDiscardSectors);
        Assert.Equal(UblkParamsBuilder.MaxDiscardSectors, p.Discard.MaxWriteZeroesSectors);
        Assert.Equal(1, p.Discard.MaxDiscardSegments); // must be 1 when max_discard_sectors != 0
    }

    [Fact]
    public void ParamsWithoutDiscardOmitTheDiscardPart()
    {
        UblkParams p = UblkParamsBuilder.Build(1L << 20, 4096, 4096, 65536, 65536, discard: false);
        Assert.Equal(UblkParamTypes.Basic, p.Types);
        Assert.Equal(12, p.Basic.LogicalBsShift);
        Assert.Equal(0u, p.Discard.MaxDiscardSectors);
    }
}
