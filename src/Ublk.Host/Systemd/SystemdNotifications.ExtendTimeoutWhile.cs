namespace S3Block.Ublk.Systemd;

/// <summary>The stop-timeout heartbeat for long operations such as the final upload.</summary>
internal sealed partial class SystemdNotifications
{
    /// <summary>
    /// While <paramref name="work"/> runs, sends <c>EXTEND_TIMEOUT_USEC=</c>2×<paramref name="period"/> (plus
    /// <c>STATUS=</c> from <paramref name="status"/>, e.g. "flushing: 123 MiB left") at once and then every period, so
    /// that systemd keeps waiting past <c>TimeoutStopSec=</c> as long as the work goes on. Returns when the work
    /// completes (rethrowing its exception); no heartbeat follows.
    /// </summary>
    /// <param name="work">The operation to cover, already started.</param>
    /// <param name="period">The heartbeat period; each extension allows twice that, so one late tick is harmless.</param>
    /// <param name="status">The STATUS text for each heartbeat; null sends none. If it throws, that heartbeat goes
    /// without status.</param>
    /// <param name="progress">Optional: a period in which this probe is stuck sends no extension, so a flush that stopped
    /// moving (e.g. S3 unreachable for good) runs into the timeout and systemd kills the daemon — the journal keeps the
    /// data for the next start — instead of hanging a shutdown or reboot for ever. Use a probe instance of its own
    /// (probes keep state between checks).</param>
    /// <param name="cancellationToken">Stops the heartbeat (throws <see cref="OperationCanceledException"/>) without
    /// waiting for the work.</param>
    public async Task ExtendTimeoutWhileAsync(
        Task work,
        TimeSpan period,
        Func<string?>? status = null,
        IProgressProbe? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);

        using var timer = new PeriodicTimer(period);
        while (!work.IsCompleted)
        {
            ExtendOnce(2 * period, status, progress);
            Task<bool> tick = timer.WaitForNextTickAsync(cancellationToken).AsTask();
            await Task.WhenAny(work, tick);
            if (work.IsCompleted)
            {
                break;
            }

            await tick; // throws when cancelled
        }

        await work;
    }

    private void ExtendOnce(TimeSpan extension, Func<string?>? status, IProgressProbe? progress)
    {
        if (progress?.Check() is { IsHealthy: false } stuck)
        {
            SystemdLog.ExtendTimeoutSkipped(_logger, $"{progress.Name}: {stuck.Detail}");
            return;
        }

        ExtendTimeout(extension, StatusText(status));
    }

    private string? StatusText(Func<string?>? status)
    {
        try
        {
            return status?.Invoke();
        }
#pragma warning disable CA1031 // The caller's status text must not end the heartbeat that keeps its flush alive.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            SystemdLog.StatusTextFailed(_logger, exception);
            return null;
        }
    }
}
