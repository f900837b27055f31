using Ublk.Server.Block;

namespace S3Block.Ublk.Tests.Backends;

public sealed class MemoryBackendTests
{
    private const int Page = 4096;

    [Fact]
    public async Task StartsEmptyAndReadsZeros()
    {
        await using var backend = new MemoryBackend(1L << 40, pageSize: Page); // sparse: 1 TiB costs nothing
        byte[] read = Filled(8192, 0x77);
        await backend.ReadAsync(1L << 39, read, TestContext.Current.CancellationToken);
        Assert.All(read, b => Assert.Equal(0, b));
        Assert.Equal(0, backend.AllocatedPages);
    }

    [Fact]
    public async Task WritesAcrossPageBoundariesReadBack()
    {
        await using var backend = new MemoryBackend(1 << 20, pageSize: Page);
        byte[] data = Pattern(3 * Page, seed: 1);
        await backend.WriteAsync(Page - 512, data, WriteFlags.None, TestContext.Current.CancellationToken); // touches 4 pages
        Assert.Equal(4, backend.AllocatedPages);

        byte[] read = new byte[data.Length + 1024];
        await backend.ReadAsync(Page - 1024, read, TestContext.Current.CancellationToken);
        Assert.All(read[..512], b => Assert.Equal(0, b));
        Assert.Equal(data, read[512..(512 + data.Length)]);
        Assert.All(read[(512 + data.Length)..], b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task DiscardFreesWholePagesAndZeroesPartialOnes()
    {
        await using var backend = new MemoryBackend(1 << 20, pageSize: Page);
        await backend.WriteAsync(0, Pattern(4 * Page, seed: 2), WriteFlags.None, TestContext.Current.CancellationToken);
        Assert.Equal(4, backend.AllocatedPages);

        // From the middle of page 0 to the middle of page 3: pages 1 and 2 are freed, 0 and 3 zeroed in part.
        await backend.DiscardAsync(Page / 2, 3 * Page, TestContext.Current.CancellationToken);
        Assert.Equal(2, backend.AllocatedPages);
        Assert.Equal(2L * Page, backend.AllocatedBytes);

        byte[] read = new byte[4 * Page];
        await backend.ReadAsync(0, read, TestContext.Current.CancellationToken);
        byte[] expected = Pattern(4 * Page, seed: 2);
        expected.AsSpan(Page / 2, 3 * Page).Clear();
        Assert.Equal(expected, read);
    }

    [Fact]
    public async Task WriteZeroesReadsAsZeros()
    {
        await using var backend = new MemoryBackend(1 << 20, pageSize: Page);
        await backend.WriteAsync(0, Pattern(2 * Page, seed: 3), WriteFlags.ForceUnitAccess, TestContext.Current.CancellationToken);
        await backend.WriteZeroesAsync(512, Page, TestContext.Current.CancellationToken);
        byte[] read = new byte[2 * Page];
        await backend.ReadAsync(0, read, TestContext.Current.CancellationToken);
        byte[] expected = Pattern(2 * Page, seed: 3);
        expected.AsSpan(512, Page).Clear();
        Assert.Equal(expected, read);
    }

    [Fact]
    public async Task ConcurrentNonOverlappingWritesAllLand()
    {
        const int writers = 32;
        const int block = 3000; // deliberately not page-aligned: neighbours share pages
        await using var backend = new MemoryBackend(1 << 20, pageSize: Page);
        await Parallel.ForAsync(0, writers, async (i, ct) =>
        {
            for (int round = 0; round < 50; round++)
            {
                await backend.WriteAsync(i * block, Pattern(block, seed: (i * 100) + round), WriteFlags.None, ct);
            }
        });

        for (int i = 0; i < writers; i++)
        {
            byte[] read = new byte[block];
            await backend.ReadAsync(i * block, read, TestContext.Current.CancellationToken);
            Assert.Equal(Pattern(block, seed: (i * 100) + 49), read);
        }
    }

    [Fact]
    public async Task ConcurrentOverlappingMixedOperationsStayConsistent()
    {
        await using var backend = new MemoryBackend(64 * Page, pageSize: Page);
        await Parallel.ForAsync(0, 16, async (worker, ct) =>
        {
            var random = new Random(worker);
            byte[] buffer = new byte[4 * Page];
            for (int i = 0; i < 500; i++)
            {
                long offset = random.Next(0, 60) * (long)Page + (random.Next(0, 8) * 512);
                int length = random.Next(1, 8) * 512;
                switch (random.Next(4))
                {
                    case 0: await backend.WriteAsync(offset, buffer.AsMemory(0, length), WriteFlags.None, ct); break;
                    case 1: await backend.ReadAsync(offset, buffer.AsMemory(0, length), ct); break;
                    case 2: await backend.DiscardAsync(offset, length, ct); break;
                    default: await backend.WriteZeroesAsync(offset, 2L * Page, ct); break;
                }
            }
        });

        Assert.InRange(backend.AllocatedPages, 0, 64);
    }

    [Fact]
    public async Task RejectsRequestsOutsideTheDevice()
    {
        await using var backend = new MemoryBackend(1 << 20);
        var e = await Assert.ThrowsAsync<BlockIOException>(async () => await backend.WriteAsync((1 << 20) - 512, new byte[1024], WriteFlags.None, TestContext.Current.CancellationToken));
        Assert.Equal(BlockIOException.EINVAL, e.Errno);
        await Assert.ThrowsAsync<BlockIOException>(async () => await backend.DiscardAsync(-512, 512, TestContext.Current.CancellationToken));
    }

    internal static byte[] Pattern(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static byte[] Filled(int length, byte value) => Enumerable.Repeat(value, length).ToArray();
}
