using System.Diagnostics;
using S3Block.Ublk.Systemd;

namespace S3Block.Ublk.Tests.Systemd;

/// <summary>EXTEND_TIMEOUT_USEC heartbeats while a long operation (the final upload) runs, and none after.</summary>
public sealed class ExtendTimeoutWhileTests
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task HeartbeatsWithStatusEveryPeriodWhileTheWorkRunsAndStopsAfter()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var notifier = listener.CreateNotifications();
        var flush = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int mibLeft = 100;

        Task heartbeat = notifier.ExtendTimeoutWhileAsync(flush.Task, Period, () => $"flushing: {mibLeft--} MiB left",
            cancellationToken: TestContext.Current.CancellationToken);

        var clock = Stopwatch.StartNew();
        Assert.Equal("EXTEND_TIMEOUT_USEC=200000\nSTATUS=flushing: 100 MiB left", await listener.ExpectAsync());
        TimeSpan first = clock.Elapsed;
        Assert.Equal("EXTEND_TIMEOUT_USEC=200000\nSTATUS=flushing: 99 MiB left", await listener.ExpectAsync());
        Assert.Equal("EXTEND_TIMEOUT_USEC=200000\nSTATUS=flushing: 98 MiB left", await listener.ExpectAsync());
        Assert.Equal("EXTEND_TIMEOUT_USEC=200000\nSTATUS=flushing: 97 MiB left", await listener.ExpectAsync());

        // Three periods between the first and the fourth heartbeat: a timer never fires early (small slack for the
        // first send itself).
        Assert.True(clock.Elapsed - first >= 3 * Period - TimeSpan.FromMilliseconds(30), $"too fast: {clock.Elapsed - first}");

        flush.SetResult();
        await heartbeat.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        listener.Drain(); // at most a heartbeat that raced with completion
        Assert.Null(await listener.ReceiveAsync(3 * Period));
    }

    [Fact]
    public async Task ReturnsAsSoonAsTheWorkCompletesNotAtTheNextTick()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var notifier = listener.CreateNotifications();

        var clock = Stopwatch.StartNew();
        await notifier.ExtendTimeoutWhileAsync(Task.Delay(50, TestContext.Current.CancellationToken), TimeSpan.FromMinutes(1),
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"waited {clock.Elapsed}");
        Assert.Equal("EXTEND_TIMEOUT_USEC=120000000", await listener.ExpectAsync());
        Assert.Empty(listener.Drain());
    }

    [Fact]
    public async Task FinishedWorkNeedsNoHeartbeat()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var notifier = listener.CreateNotifications();

        await notifier.ExtendTimeoutWhileAsync(Task.CompletedTask, Period, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Null(await listener.ReceiveAsync(2 * Period));
    }

    [Fact]
    public async Task TheWorksFailureIsRethrownAndTheHeartbeatsStop()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var notifier = listener.CreateNotifications();
        var flush = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task heartbeat = notifier.ExtendTimeoutWhileAsync(flush.Task, Period, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("EXTEND_TIMEOUT_USEC=200000", await listener.ExpectAsync());
        flush.SetException(new IOException("S3 said no"));

        IOException thrown = await Assert.ThrowsAsync<IOException>(() => heartbeat);
        Assert.Equal("S3 said no", thrown.Message);
        listener.Drain();
        Assert.Null(await listener.ReceiveAsync(3 * Period));
    }

    [Fact]
    public async Task CancellingStopsTheHeartbeatsWithoutWaitingForTheWork()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var notifier = listener.CreateNotifications();
        var never = new TaskCompletionSource();
        using var cancel = new CancellationTokenSource();

        Task heartbeat = notifier.ExtendTimeoutWhileAsync(never.Task, Period, cancellationToken: cancel.Token);
        Assert.Equal("EXTEND_TIMEOUT_USEC=200000", await listener.ExpectAsync());
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => heartbeat);
        listener.Drain();
        Assert.Null(await listener.ReceiveAsync(3 * Period));
    }

    [Fact]
    public async Task AFailingStatusTextStillExtends()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var logger = new ListLogger<SystemdNotifications>();
        var notifier = listener.CreateNotifications(logger);
        var flush = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task heartbeat = notifier.ExtendTimeoutWhileAsync(flush.Task, Period, () => throw new InvalidOperationException("no stats yet"),
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("EXTEND_TIMEOUT_USEC=200000", await listener.ExpectAsync());
        flush.SetResult();
        await heartbeat;
        Assert.Contains(logger.Messages, m => m.Contains("STATUS", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AStuckProgressProbeWithholdsTheExtensionUntilItMovesAgain()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var logger = new ListLogger<SystemdNotifications>();
        var notifier = listener.CreateNotifications(logger);
        var uploader = new ScriptedProbe("uploader") { IsStuck = true };
        var flush = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task heartbeat = notifier.ExtendTimeoutWhileAsync(flush.Task, Period, () => "flushing", uploader,
            TestContext.Current.CancellationToken);
        await uploader.WaitForChecksAfterNowAsync(3);

        Assert.Empty(listener.Drain());
        Assert.Contains(logger.Messages, m => m.Contains("uploader: scripted stall", StringComparison.Ordinal));

        uploader.IsStuck = false;
        Assert.Equal("EXTEND_TIMEOUT_USEC=200000\nSTATUS=flushing", await listener.ExpectAsync());

        flush.SetResult();
        await heartbeat;
    }

    [Fact]
    public async Task OutsideSystemdItJustAwaitsTheWork()
    {
        var notifier = new SystemdNotifications(NotifySocketListener.PackageNotifier(null));
        var flush = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);

        Task heartbeat = notifier.ExtendTimeoutWhileAsync(flush.Task, Period, () => "flushing", cancellationToken: TestContext.Current.CancellationToken);
        await Task.Delay(3 * Period, TestContext.Current.CancellationToken);
        Assert.False(heartbeat.IsCompleted);

        flush.SetResult(1);
        await heartbeat;
        Assert.Equal(0, notifier.SentCount);
    }
}
