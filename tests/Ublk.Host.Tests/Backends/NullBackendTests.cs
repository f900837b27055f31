using Ublk.Server.Block;

namespace S3Block.Ublk.Tests.Backends;

public sealed class NullBackendTests
{
    [Fact]
    public async Task ReadsZerosAndDropsWrites()
    {
        await using var backend = new NullBackend(1 << 20, 4096);
        Assert.Equal(1 << 20, backend.SizeBytes);
        Assert.Equal(4096, backend.LogicalBlockSize);

        await backend.WriteAsync(0, new byte[4096].Select(_ => (byte)0xAB).ToArray(), WriteFlags.ForceUnitAccess, TestContext.Current.CancellationToken);
        byte[] read = Enumerable.Repeat((byte)0xCD, 4096).ToArray();
        await backend.ReadAsync(0, read, TestContext.Current.CancellationToken);
        Assert.All(read, b => Assert.Equal(0, b));

        await backend.FlushAsync(TestContext.Current.CancellationToken);
        await backend.DiscardAsync(0, 1 << 20, TestContext.Current.CancellationToken);
        await backend.WriteZeroesAsync(4096, 8192, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task RejectsRequestsOutsideTheDevice()
    {
        await using var backend = new NullBackend(8192);
        var e = await Assert.ThrowsAsync<BlockIOException>(async () => await backend.ReadAsync(8192, new byte[512], TestContext.Current.CancellationToken));
        Assert.Equal(BlockIOException.EINVAL, e.Errno);
    }

    [Theory]
    [InlineData(1000L, 512)]
    [InlineData(0L, 512)]
    [InlineData(8192L, 1024 + 512)]
    public void RejectsBadShapes(long size, int blockSize) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new NullBackend(size, blockSize));
}
