using S3Block.Ublk.Daemon;
using S3Block.Volume;

namespace S3Block.Tests.Daemon;

public sealed class ThreadPoolReserveTests
{
    [Fact]
    public void The_minimum_covers_every_blocking_call_the_settings_allow_at_once()
    {
        var volume = new VolumeOptions { MaxUploadsInFlight = 8, MaxFetchesInFlight = 16, ReadAheadChunks = 4 };
        var device = new DeviceSettings { Queues = 4 };

        Assert.Equal(Environment.ProcessorCount + 8 + 16 + 4 + 8, ThreadPoolReserve.MinimumWorkers(volume, device));
    }

    [Fact]
    public void Raise_raises_the_pools_minimum_and_never_lowers_it()
    {
        ThreadPool.GetMinThreads(out var before, out var completionPortsBefore);

        // Process-wide state: raising it stays harmless for the other tests of this process; lowering is never tried.
        Assert.Equal(before, ThreadPoolReserve.Raise(before - 1));
        Assert.Equal(before + 3, ThreadPoolReserve.Raise(before + 3));
        ThreadPool.GetMinThreads(out var after, out var completionPortsAfter);
        Assert.Equal(before + 3, after);
        Assert.Equal(completionPortsBefore, completionPortsAfter);
    }
}
