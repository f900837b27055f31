using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace S3Block.Ublk.Systemd;

/// <summary>
/// Feeds systemd's watchdog (<c>WatchdogSec=</c>): when <c>WATCHDOG_USEC</c> is set for this process, sends
/// <c>WATCHDOG=1</c> every half interval — but only while the progress probes say the I/O threads and the uploader move.
/// When a probe is stuck the ping is skipped and the stuck probe is logged; if that lasts the watchdog timeout, systemd
/// kills the daemon (SIGABRT) and <c>Restart=on-failure</c> starts a new one that recovers the device. A watchdog that
/// pings from a timer regardless would only prove that the timer works.
/// </summary>
internal sealed class SystemdWatchdogService(
    SystemdNotifications notifier,
    SystemdEnvironment environment,
    CompositeProgressProbe probes,
    ILogger<SystemdWatchdogService> logger) : BackgroundService
{
    private long _pings;
    private long _skips;

    /// <summary>Pings sent.</summary>
    public long PingCount => Interlocked.Read(ref _pings);

    /// <summary>Pings skipped because a probe was stuck.</summary>
    public long SkippedCount => Interlocked.Read(ref _skips);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (environment.WatchdogInterval is not { } interval || environment.WatchdogPingPeriod is not { } period || !notifier.IsEnabled)
        {
            SystemdLog.WatchdogDisabled(logger);
            return;
        }

        SystemdLog.WatchdogEnabled(logger, interval, period);
        using var timer = new PeriodicTimer(period);
        bool wasStuck = false;
        try
        {
            do
            {
                wasStuck = PingIfProgressing(wasStuck);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Host shutdown.
        }
    }

    /// <summary>One period: check every probe, ping if all are healthy. Returns whether a probe was stuck.</summary>
    private bool PingIfProgressing(bool wasStuck)
    {
        ProbeResult result = probes.Check();
        if (!result.IsHealthy)
        {
            Interlocked.Increment(ref _skips);
            SystemdLog.WatchdogPingSkipped(logger, result.Detail ?? "unknown");
            return true;
        }

        if (notifier.Watchdog())
        {
            Interlocked.Increment(ref _pings);
        }

        if (wasStuck)
        {
            SystemdLog.WatchdogPingsResumed(logger);
        }

        return false;
    }
}
