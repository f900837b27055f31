using S3Block.Ublk.Systemd;

namespace S3Block.Ublk.Tests.Systemd;

public sealed class ProgressProbeTests
{
    [Fact]
    public void AHeartbeatProbeIsHealthyWhileTheCounterMoves()
    {
        long counter = 0;
        var probe = new HeartbeatProbe("queue 0", () => counter, () => true);

        Assert.True(probe.Check().IsHealthy); // baseline
        for (int i = 0; i < 5; i++)
        {
            counter++;
            Assert.True(probe.Check().IsHealthy);
        }
    }

    [Fact]
    public void AHeartbeatProbeIsStuckWhenBusyForAWholePeriodWithoutProgress()
    {
        long counter = 7;
        var probe = new HeartbeatProbe("queue 0", () => counter, () => true);

        Assert.True(probe.Check().IsHealthy);
        ProbeResult result = probe.Check();

        Assert.False(result.IsHealthy);
        Assert.Contains("heartbeat 7", result.Detail, StringComparison.Ordinal);

        counter++;
        Assert.True(probe.Check().IsHealthy);
    }

    [Fact]
    public void AnIdleComponentIsHealthyWithoutProgress()
    {
        var probe = new HeartbeatProbe("uploader", () => 0, () => false);

        for (int i = 0; i < 5; i++)
        {
            Assert.True(probe.Check().IsHealthy);
        }
    }

    [Fact]
    public void WorkArrivingJustBeforeACheckIsNotAStall()
    {
        long counter = 3;
        bool busy = false;
        var probe = new HeartbeatProbe("queue 1", () => counter, () => busy);
        Assert.True(probe.Check().IsHealthy);
        Assert.True(probe.Check().IsHealthy); // idle, no progress: fine

        busy = true; // a request arrives a moment before the next check
        Assert.True(probe.Check().IsHealthy);

        // ...and is still not done a whole period later: that is a stall.
        Assert.False(probe.Check().IsHealthy);
    }

    [Fact]
    public void ACompositeNamesEveryStuckProbeAndChecksThemAll()
    {
        int checks = 0;
        var composite = new CompositeProgressProbe(
        [
            new DelegateProgressProbe("queue 0", () => { checks++; return ProbeResult.Healthy; }),
            new DelegateProgressProbe("queue 1", () => { checks++; return ProbeResult.Stuck("4 requests in flight"); }),
            new DelegateProgressProbe("uploader", () => { checks++; return ProbeResult.Stuck("no PUT completed"); }),
        ]);

        ProbeResult result = composite.Check();

        Assert.False(result.IsHealthy);
        Assert.Equal("queue 1: 4 requests in flight; uploader: no PUT completed", result.Detail);
        Assert.Equal(3, checks);
    }

    [Fact]
    public void AnEmptyCompositeIsHealthy() => Assert.True(new CompositeProgressProbe().Check().IsHealthy);

    [Fact]
    public void AThrowingProbeCountsAsStuck()
    {
        var composite = new CompositeProgressProbe([new DelegateProgressProbe("lease", () => throw new InvalidOperationException("boom"))]);

        ProbeResult result = composite.Check();

        Assert.False(result.IsHealthy);
        Assert.Equal("lease: the probe threw InvalidOperationException: boom", result.Detail);
    }

    [Fact]
    public void ProbesCanBeAddedAndRemovedAtRunTime()
    {
        var composite = new CompositeProgressProbe([new DelegateProgressProbe("uploader", () => ProbeResult.Healthy)]);
        IDisposable queue = composite.Add(new DelegateProgressProbe("queue 0", () => ProbeResult.Stuck("stalled")));

        Assert.Equal(["uploader", "queue 0"], composite.Names);
        Assert.False(composite.Check().IsHealthy);

        queue.Dispose();
        queue.Dispose();

        Assert.Equal(["uploader"], composite.Names);
        Assert.True(composite.Check().IsHealthy);
    }

    [Fact]
    public void NamesAreUnique()
    {
        var composite = new CompositeProgressProbe([new DelegateProgressProbe("uploader", () => ProbeResult.Healthy)]);
        Assert.Throws<ArgumentException>(() => composite.Add(new DelegateProgressProbe("uploader", () => ProbeResult.Healthy)));
    }
}
