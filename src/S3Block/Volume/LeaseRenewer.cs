using Microsoft.Extensions.Logging;
using S3Block.ObjectStore;

namespace S3Block.Volume;

/// <summary>
/// Renews a volume's lease every third of its TTL from the moment it is taken, so an open that replays a long journal
/// keeps its lease; each renewal records what the holder reports about data not yet in S3 (opening, until the
/// volume attaches its report). Store failures only delay renewal; losing the lease is handed to the volume.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The stop source has no timer; it is cancelled by StopAsync, which every owner awaits.")]
internal sealed class LeaseRenewer
{
    private readonly VolumeLease _lease;
    private readonly TimeSpan _ttl;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _volume;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _renewSoon = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;
    private Func<LeaseDataReport> _snapshot;
    private Action<Exception>? _onLost;
    private Exception? _lost;
    private long _failures;

    private LeaseRenewer(VolumeLease lease, TimeSpan ttl, TimeProvider time, ILogger logger, string volume)
    {
        _lease = lease;
        _ttl = ttl;
        _time = time;
        _logger = logger;
        _volume = volume;
        var opening = LeaseDataReport.Opening(lease.Record.CommittedThrough);
        _snapshot = () => opening;
    }

    /// <summary>Renewals that failed on the store (they are retried).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    public static LeaseRenewer Start(VolumeLease lease, TimeSpan ttl, TimeProvider time, ILogger logger, string volume)
    {
        var renewer = new LeaseRenewer(lease, ttl, time, logger, volume);
        renewer._loop = Task.Run(() => renewer.RunAsync(renewer._stopping.Token));
        return renewer;
    }

    /// <summary>
    /// From now on renewals record <paramref name="snapshot"/>, and losing the lease calls <paramref name="onLost"/>
    /// (at once if already lost). The next renewal runs right away so the lease soon says what the volume holds.
    /// </summary>
    public void Attach(Func<LeaseDataReport> snapshot, Action<Exception> onLost)
    {
        Exception? lost;
        lock (_lock)
        {
            _snapshot = snapshot;
            _onLost = onLost;
            lost = _lost;
        }

        if (lost is not null)
        {
            onLost(lost);
        }

        RenewSoon();
    }

    /// <summary>Wakes the loop for a renewal now instead of at the next period.</summary>
    public void RenewSoon() => Volatile.Read(ref _renewSoon).TrySetResult();

    /// <summary>Writes the lease now with the current report (store errors reach the caller).</summary>
    public Task RenewNowAsync(CancellationToken cancellationToken)
    {
        Func<LeaseDataReport> snapshot;
        lock (_lock)
        {
            snapshot = _snapshot;
        }

        return RenewWithLossHandlingAsync(snapshot, cancellationToken);
    }

    public async Task StopAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync();
        }

        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var period = _ttl / 3;
        while (!cancellationToken.IsCancellationRequested)
        {
            var soon = Volatile.Read(ref _renewSoon);
            await Task.WhenAny(Task.Delay(period, _time, cancellationToken), soon.Task);
            cancellationToken.ThrowIfCancellationRequested();
            Interlocked.CompareExchange(ref _renewSoon, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), soon);
            try
            {
                await RenewNowAsync(cancellationToken);
            }
            catch (VolumeFencedException)
            {
                return;
            }
            catch (ObjectStoreException e)
            {
                Interlocked.Increment(ref _failures);
                VolumeLog.LeaseRenewalFailed(_logger, _volume, period, e.Message);
            }
        }
    }

    private async Task RenewWithLossHandlingAsync(Func<LeaseDataReport> snapshot, CancellationToken cancellationToken)
    {
        try
        {
            await _lease.UpdateAsync(_ttl, snapshot, null, cancellationToken);
        }
        catch (VolumeFencedException e)
        {
            Action<Exception>? onLost;
            lock (_lock)
            {
                _lost ??= e;
                onLost = _onLost;
            }

            onLost?.Invoke(e);
            throw;
        }
    }
}
