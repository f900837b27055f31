using Ublk.Server.Block;

namespace S3Block.Ublk.Tests.Backends;

public sealed class FileBackendTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("s3block-filebackend-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task CreatesASparseFileOfTheRequestedSize()
    {
        string path = Path.Combine(_directory, "disk.img");
        await using (var backend = FileBackend.Open(path, 64L << 20, 4096))
        {
            Assert.Equal(64L << 20, backend.SizeBytes);
            Assert.Equal(4096, backend.LogicalBlockSize);
            byte[] read = new byte[8192];
            await backend.ReadAsync(32L << 20, read, TestContext.Current.CancellationToken);
            Assert.All(read, b => Assert.Equal(0, b));
        }

        Assert.Equal(64L << 20, new FileInfo(path).Length);
    }

    [Fact]
    public async Task NeverRunsInlineOnAQueueThread()
    {
        // Disk I/O can block: the file backend must stay on the thread pool.
        await using var backend = FileBackend.Open(Path.Combine(_directory, "disk.img"), 1 << 20);
        Assert.False(((IBlockBackend)backend).CompletesInline);
    }

    [Fact]
    public async Task WritesReadBackAndSurviveReopening()
    {
        string path = Path.Combine(_directory, "disk.img");
        byte[] data = MemoryBackendTests.Pattern(3 * 4096, seed: 7);
        await using (var backend = FileBackend.Open(path, 1 << 20))
        {
            await backend.WriteAsync(4096, data, WriteFlags.None, TestContext.Current.CancellationToken);
            await backend.WriteAsync(65536, data, WriteFlags.ForceUnitAccess, TestContext.Current.CancellationToken); // write + fdatasync
            await backend.FlushAsync(TestContext.Current.CancellationToken);
        }

        await using (var reopened = FileBackend.Open(path)) // size taken from the file
        {
            Assert.Equal(1 << 20, reopened.SizeBytes);
            byte[] read = new byte[data.Length];
            await reopened.ReadAsync(4096, read, TestContext.Current.CancellationToken);
            Assert.Equal(data, read);
            await reopened.ReadAsync(65536, read, TestContext.Current.CancellationToken);
            Assert.Equal(data, read);
        }
    }

    [Fact]
    public async Task DiscardAndWriteZeroesReadAsZeros()
    {
        string path = Path.Combine(_directory, "disk.img");
        await using var backend = FileBackend.Open(path, 1 << 20);
        byte[] data = MemoryBackendTests.Pattern(256 << 10, seed: 8);
        await backend.WriteAsync(0, data, WriteFlags.None, TestContext.Current.CancellationToken);

        await backend.DiscardAsync(64 << 10, 64 << 10, TestContext.Current.CancellationToken);
        await backend.WriteZeroesAsync(512, 1024, TestContext.Current.CancellationToken);

        byte[] read = new byte[data.Length];
        await backend.ReadAsync(0, read, TestContext.Current.CancellationToken);
        byte[] expected = (byte[])data.Clone();
        expected.AsSpan(64 << 10, 64 << 10).Clear();
        expected.AsSpan(512, 1024).Clear();
        Assert.Equal(expected, read);
    }

    [Fact]
    public async Task ExtendsAShorterFileAndRefusesToTruncateALongerOne()
    {
        string path = Path.Combine(_directory, "disk.img");
        await File.WriteAllBytesAsync(path, Enumerable.Repeat((byte)1, 4096).ToArray(), TestContext.Current.CancellationToken);
        await using (var backend = FileBackend.Open(path, 1 << 20))
        {
            byte[] read = new byte[8192];
            await backend.ReadAsync(0, read, TestContext.Current.CancellationToken);
            Assert.All(read[..4096], b => Assert.Equal(1, b));
            Assert.All(read[4096..], b => Assert.Equal(0, b));
        }

        var e = Assert.Throws<ArgumentException>(() => FileBackend.Open(path, 8192));
        Assert.Contains("refusing to truncate", e.Message);
    }

    [Fact]
    public void RejectsASizeThatIsNotAMultipleOfTheBlockSize()
    {
        string path = Path.Combine(_directory, "odd.img");
        Assert.Throws<ArgumentOutOfRangeException>(() => FileBackend.Open(path, 1000));
    }
}
