using S3Block.Block;
using S3Block.Cache.Journal;
using S3Block.TestKit;
using S3Block.TestKit.Volume;
using S3Block.Volume;

namespace S3Block.LocalStack.Tests;

/// <summary>The volume's guarantees with a real S3 server: single writer, takeover, outages, S3-only recovery.</summary>
public sealed class VolumeOnS3Tests(S3BucketFixture bucket) : IClassFixture<S3BucketFixture>, IDisposable
{
    private readonly TempFolder _local = new("volume-s3");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Data_written_and_drained_reads_back_from_S3_alone()
    {
        using var harness = NewHarness();
        var data = Pattern(200 * 1024, 1);
        await using (var volume = await harness.OpenAsync())
        {
            await volume.WriteAsync(60 * 1024, data, WriteFlags.None, Ct);
            await volume.CloseAsync(drain: true, progress: null, Ct);
        }

        harness.DeleteLocalState();
        await using var fromS3 = await harness.OpenAsync(node: Guid.NewGuid());
        var read = new byte[data.Length];
        await fromS3.ReadAsync(60 * 1024, read, Ct);
        Assert.Equal(data, read);
    }

    [Fact]
    public async Task Of_two_writers_racing_for_a_volume_exactly_one_proceeds()
    {
        using var harness = NewHarness();
        var opens = await Task.WhenAll(Enumerable.Range(0, 2).Select(i => Task.Run(async () =>
        {
            try
            {
                return await OpenAsync(harness, Guid.NewGuid(), $"racer-{i}", VolumeHarness.ManualCommits);
            }
            catch (VolumeInUseException)
            {
                return null;
            }
        }, Ct)));

        var winner = Assert.Single(opens, v => v is not null)!;
        await winner.WriteAsync(0, Pattern(4096, 2), WriteFlags.None, Ct);
        Assert.True(await winner.CommitOnceAsync(Ct));
        await winner.DisposeAsync();
    }

    [Fact]
    public async Task A_crashed_writers_lease_expires_and_the_successor_fences_it()
    {
        using var harness = NewHarness();
        var options = VolumeHarness.ManualCommits;
        options.LeaseTtl = TimeSpan.FromSeconds(3);
        var crashed = await OpenAsync(harness, Guid.NewGuid(), "first", options);
        await crashed.WriteAsync(0, Pattern(4096, 1), WriteFlags.None, Ct);
        await crashed.CommitOnceAsync(Ct);
        await crashed.CrashForTestsAsync(); // no lease release: it must expire

        var refusal = await Assert.ThrowsAsync<VolumeInUseException>(() => OpenAsync(harness, Guid.NewGuid(), "second", options));
        Assert.Contains("is in use by", refusal.Message, StringComparison.Ordinal);

        S3Volume? successor = null;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (successor is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500, Ct);
            try
            {
                successor = await OpenAsync(harness, Guid.NewGuid(), "third", options);
            }
            catch (VolumeInUseException)
            {
            }
        }

        Assert.NotNull(successor);
        var read = new byte[4096];
        await successor.ReadAsync(0, read, Ct);
        Assert.Equal(Pattern(4096, 1), read);
        Assert.True(successor.Epoch > 1);
        await successor.DisposeAsync();
    }

    [Fact]
    public async Task During_an_outage_writes_keep_landing_in_the_journal_and_drain_afterwards()
    {
        using var harness = NewHarness();
        var options = VolumeHarness.ManualCommits;
        options.CommitInterval = TimeSpan.FromMilliseconds(200);
        await using var volume = await harness.OpenAsync(options, journal: new JournalOptions { SegmentSizeBytes = 1 << 20, CapacityBytes = 16 << 20 });
        harness.Store.Down = true;
        var expected = new byte[harness.Descriptor.SizeBytes];
        for (var i = 0; i < 64; i++)
        {
            var data = Pattern(8192, 10 + i);
            await volume.WriteAsync(i * 8192L, data, WriteFlags.None, Ct);
            data.CopyTo(expected, i * 8192);
            if (i % 8 == 0)
            {
                await volume.FlushAsync(Ct);
            }
        }

        await Task.Delay(1000, Ct);
        Assert.True(harness.Store.CallsWhileDown > 0, "the uploader should have tried during the outage");
        Assert.True(volume.GetStatistics().DirtyBytes > 0);
        harness.Store.Down = false;
        await volume.DrainAsync(null, Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.Equal(0, volume.GetStatistics().DirtyBytes);
        await volume.CloseAsync(drain: true, progress: null, Ct);

        harness.DeleteLocalState();
        await using var fromS3 = await harness.OpenAsync(node: Guid.NewGuid());
        Assert.Equal(expected, await VolumeHarness.ReadAllAsync(fromS3));
    }

    public void Dispose() => _local.Dispose();

    private VolumeHarness NewHarness() =>
        new(sizeBytes: 1 << 20, chunkSize: 64 * 1024, store: S3TestSettings.ProductionStore(bucket.Bucket, $"vol-{Guid.NewGuid():N}/"));

    private Task<S3Volume> OpenAsync(VolumeHarness harness, Guid node, string journal, VolumeOptions options) =>
        S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = harness.Store,
            VolumeName = harness.Descriptor.Name,
            JournalDirectory = Path.Combine(_local.Path, journal),
            Options = options,
            Node = node,
        }, Ct);

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
