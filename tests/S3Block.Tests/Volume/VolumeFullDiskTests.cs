using Ublk.Server.Block;
using S3Block.Cache.Journal;
using S3Block.ObjectStore.Local;
using S3Block.TestKit;
using S3Block.Volume;

namespace S3Block.Tests.Volume;

/// <summary>
/// The local disk fills up under the journal and the embedded store that share it (the measured failure of issue 9:
/// the volume stopped accepting writes for good). Writes must wait, not fail, and everything drains once space returns.
/// </summary>
public sealed class VolumeFullDiskTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task On_a_full_local_disk_writes_wait_and_everything_drains_once_space_returns()
    {
        using var disk = new SmallFileSystem(24 << 20);
        var store = new LocalDirectoryObjectStore(Path.Combine(disk.Path, "store"));
        var descriptor = VolumeDescriptor.CreateNew("full", 4 << 20, 64 * 1024, 4096);
        await VolumeCatalog.CreateAsync(store, descriptor, Ct);
        await using var volume = await S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = store,
            VolumeName = "full",
            JournalDirectory = Path.Combine(disk.Path, "journal"),
            JournalOptions = new JournalOptions
            {
                SegmentSizeBytes = 256 * 1024,
                CapacityBytes = 4 << 20,
                DiskFullRetryInterval = TimeSpan.FromMilliseconds(20),
            },
            Options = new VolumeOptions
            {
                CommitInterval = TimeSpan.FromMilliseconds(50),
                CommitThresholdBytes = 256 * 1024,
                GarbageDelay = TimeSpan.Zero,
                MaxRetryDelay = TimeSpan.FromMilliseconds(50),
            },
            Node = Guid.NewGuid(),
        }, Ct);

        var expected = new byte[descriptor.SizeBytes];
        var random = new Random(7);
        async Task WriteAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var offset = random.Next(0, (int)(descriptor.SizeBytes / (64 * 1024))) * 64 * 1024L;
                var data = new byte[64 * 1024];
                random.NextBytes(data);
                await volume.WriteAsync(offset, data, WriteFlags.None, Ct);
                data.CopyTo(expected, offset);
            }
        }

        await WriteAsync(16);
        var filler = disk.Fill(leaveFree: 128 * 1024);
        var writing = Task.Run(() => WriteAsync(120), Ct); // 7.5 MiB: more than the journal and the free space hold

        await Eventually(() => volume.JournalForTests.GetStatistics() is { AppendsWaitingForSpace: > 0 } or { DiskFullSince: not null },
            "writes wait for space");
        await Task.Delay(300, Ct);
        Assert.False(writing.IsFaulted, writing.Exception?.ToString());
        Assert.Null(volume.GetStatistics().Fault);

        File.Delete(filler);
        await writing;
        await volume.DrainAsync(null, Ct);

        Assert.Equal(0, volume.GetStatistics().DirtyBytes);
        var back = new byte[descriptor.SizeBytes];
        await volume.ReadAsync(0, back, Ct);
        Assert.True(back.AsSpan().SequenceEqual(expected), "the volume reads back what was written");
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(20, Ct);
        }
    }
}
