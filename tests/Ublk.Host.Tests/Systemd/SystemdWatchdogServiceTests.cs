using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using S3Block.Ublk.Systemd;

namespace S3Block.Ublk.Tests.Systemd;

/// <summary>WATCHDOG=1 at half of a short WATCHDOG_USEC (200 ms), only while the probes progress.</summary>
public sealed class SystemdWatchdogServiceTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Period = Interval / 2;

    [Fact]
    public async Task PingsEveryHalfIntervalWhileTheProbesProgress()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var notifier = listener.CreateNotifications();
        var probe = new ScriptedProbe("queue 0");
        using var watchdog = Watchdog(notifier, new CompositeProgressProbe([probe]));

        var clock = Stopwatch.StartNew();
        await watchdog.StartAsync(TestContext.Current.CancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        await watchdog.StopAsync(TestContext.Current.CancellationToken);
        TimeSpan elapsed = clock.Elapsed;

        List<string> pings = listener.Drain();
        Assert.All(pings, ping => Assert.Equal("WATCHDOG=1", ping));

        // One ping at start, then one per period. Timers may fire late (a busy test machine) but never early, so the
        // upper bound is firm and the lower bound loose: at least half of the ideal count.
        int ideal = (int)(elapsed / Period) + 1;
        Assert.InRange(pings.Count, ideal / 2, ideal + 1);
        Assert.Equal(pings.Count, watchdog.PingCount);
        Assert.Equal(probe.Checks, pings.Count);
        Assert.Equal(0, watchdog.SkippedCount);
    }

    [Fact]
    public async Task AStuckProbeStopsThePingsAndIsNamedThenPingsResume()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var notifier = listener.CreateNotifications();
        var queue = new ScriptedProbe("queue 0");
        var uploader = new ScriptedProbe("uploader");
        var logger = new ListLogger<SystemdWatchdogService>();
        using var watchdog = Watchdog(notifier, new CompositeProgressProbe([queue, uploader]), logger);
        await watchdog.StartAsync(TestContext.Current.CancellationToken);

        Assert.Equal("WATCHDOG=1", await listener.ExpectAsync());
        Assert.Equal("WATCHDOG=1", await listener.ExpectAsync());

        uploader.IsStuck = true;
        await uploader.WaitForChecksAfterNowAsync(1);
        listener.Drain(); // pings from before the stall
        await uploader.WaitForChecksAfterNowAsync(3);

        Assert.Empty(listener.Drain()); // three periods stuck: not a single ping
        Assert.True(watchdog.SkippedCount >= 3);
        string skipped = Assert.Single(logger.Messages.Where(m => m.Contains("skipped", StringComparison.Ordinal)).Distinct());
        Assert.Contains("uploader: scripted stall", skipped, StringComparison.Ordinal);
        Assert.DoesNotContain("queue 0", skipped, StringComparison.Ordinal);

        uploader.IsStuck = false;
        Assert.Equal("WATCHDOG=1", await listener.ExpectAsync());
        await Eventually.TrueAsync(() => logger.Messages.Any(m => m.Contains("resumed", StringComparison.Ordinal)), "the 'resumed' log");

        await watchdog.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AHeartbeatProbeOfAWedgedComponentStopsThePings()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var notifier = listener.CreateNotifications();
        long completions = 0;
        bool wedged = false;
        bool wedgeSeen = false;
        var witness = new ScriptedProbe("witness");
        var queue = new HeartbeatProbe("queue 0", () => Interlocked.Read(ref completions), () => true);
        using var watchdog = Watchdog(notifier, new CompositeProgressProbe([witness, queue]));

        // The "queue thread": completes requests until it wedges, with requests still outstanding.
        bool stop = false;
        var worker = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                if (Volatile.Read(ref wedged))
                {
                    Volatile.Write(ref wedgeSeen, true); // from here on the counter is frozen
                }
                else
                {
                    Interlocked.Increment(ref completions);
                }

                Thread.Sleep(5);
            }
        });
        worker.Start();

        await watchdog.StartAsync(TestContext.Current.CancellationToken);
        await witness.WaitForChecksAfterNowAsync(3);
        Assert.True(listener.Drain().Count >= 3);

        Volatile.Write(ref wedged, true);
        await Eventually.TrueAsync(() => Volatile.Read(ref wedgeSeen), "the worker to wedge");
        await witness.WaitForChecksAfterNowAsync(2); // one check to take the new baseline, one to see no progress
        listener.Drain();
        await witness.WaitForChecksAfterNowAsync(3);
        Assert.Empty(listener.Drain());

        await watchdog.StopAsync(TestContext.Current.CancellationToken);
        Volatile.Write(ref stop, true);
        worker.Join();
    }

    [Fact]
    public async Task WithoutWatchdogUsecNothingIsSent()
    {
        using NotifySocketListener listener = NotifySocketListener.BindAbstract();
        var notifier = listener.CreateNotifications();
        var probe = new ScriptedProbe("queue 0");
        using var watchdog = new SystemdWatchdogService(
            notifier, new SystemdEnvironment(false, null), new CompositeProgressProbe([probe]), NullLogger<SystemdWatchdogService>.Instance);

        await watchdog.StartAsync(TestContext.Current.CancellationToken);
        await watchdog.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken); // returns at once
        Assert.Null(await listener.ReceiveAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(0, probe.Checks);
        await watchdog.StopAsync(TestContext.Current.CancellationToken);
    }

    private static SystemdWatchdogService Watchdog(SystemdNotifications notifier, CompositeProgressProbe probes, ILogger<SystemdWatchdogService>? logger = null) =>
        new(notifier,
            new SystemdEnvironment(true, Interval),
            probes,
            logger ?? NullLogger<SystemdWatchdogService>.Instance);
}
