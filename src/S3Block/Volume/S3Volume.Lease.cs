using S3Block.Block;
using S3Block.ObjectStore;

namespace S3Block.Volume;

/// <summary>
/// What the lease says about data not yet in S3 (docs/volume-format.md, "Takeover and unsynced data"). Renewals record
/// the current state; a lease that may say "clean" is switched to "dirty" before a FLUSH or FUA of data not in S3 is
/// acknowledged, so another node never takes over a lease marked clean while this holder has flushed data it lacks.
/// </summary>
public sealed partial class S3Volume
{
    // Guarded by _lock. True from the moment a clean report is taken until a dirty one is in the store: while true, a
    // clean record may be the newest in the store.
    private bool _leaseMaySayClean;
    private Task? _markingLeaseDirty;

    /// <summary>Set when this open took the volume by force from another node: what that discarded (also logged).</summary>
    public string? ForcedTakeover => _lease.ForcedTakeover;

    /// <summary>Taken in lease-write order (see <see cref="VolumeLease.UpdateAsync"/>).</summary>
    private LeaseDataReport LeaseReport()
    {
        lock (_lock)
        {
            if (_committedSequence >= _indexed.CompletedThrough)
            {
                _leaseMaySayClean = true;
                return new LeaseDataReport(LeaseDataState.Clean, _lastCommitNumber, 0, 0);
            }

            var oldest = _dirty.OldestJournaledAt();
            var since = oldest is null ? _time.GetUtcNow() : _time.GetUtcNow() - _time.GetElapsedTime(oldest.Value);
            return new LeaseDataReport(LeaseDataState.Dirty, _lastCommitNumber, _dirty.DirtyBytes, since.ToUnixTimeMilliseconds());
        }
    }

    private void LeaseReportWritten(LeaseDataReport report)
    {
        if (report.State != LeaseDataState.Clean)
        {
            lock (_lock)
            {
                _leaseMaySayClean = false;
            }
        }
    }

    /// <summary>After a write is indexed: start switching the lease to dirty early, so a FLUSH rarely waits for it.</summary>
    private void LeaseMayNeedDirty()
    {
        lock (_lock)
        {
            if (!_leaseMaySayClean || _markingLeaseDirty is not null || _fault is not null)
            {
                return;
            }

            _markingLeaseDirty = Task.Run(MarkLeaseDirtyAsync, CancellationToken.None);
        }
    }

    /// <summary>
    /// Before acknowledging that everything through <paramref name="sequence"/> is durable: unless a commit covers it,
    /// the lease in the store must say dirty. Waits (retrying the store) while it may still say clean.
    /// </summary>
    private async Task EnsureLeaseRecordsUnsyncedAsync(long sequence, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task marking;
            lock (_lock)
            {
                if (sequence <= _committedSequence || !_leaseMaySayClean)
                {
                    return;
                }

                if (_fault is not null)
                {
                    break;
                }

                marking = _markingLeaseDirty ??= Task.Run(MarkLeaseDirtyAsync, CancellationToken.None);
            }

            try
            {
                await marking.WaitAsync(cancellationToken);
            }
            catch (VolumeFencedException)
            {
                break;
            }
        }

        ThrowIfFaulted();
        throw new BlockIOException(BlockIOException.EIO, $"volume '{_keys.Name}' lost its lease");
    }

    /// <summary>Writes the lease (with the current, dirty, report) until it is in the store or the volume is lost.</summary>
    private async Task MarkLeaseDirtyAsync()
    {
        var policy = new RetryPolicy(int.MaxValue, TimeSpan.FromMilliseconds(100), _options.MaxRetryDelay);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await _renewer.RenewNowAsync(_stopping.Token);
                    lock (_lock)
                    {
                        if (!_leaseMaySayClean || _committedSequence >= _indexed.CompletedThrough)
                        {
                            return;
                        }
                    }
                }
                catch (ObjectStoreException e)
                {
                    Interlocked.Increment(ref _storeRetries);
                    if (attempt == 1 || attempt % 10 == 0)
                    {
                        VolumeLog.StoreRetry(_logger, "PUT lease (marking unsynced data)", attempt, e.Message);
                    }

                    await Task.Delay(policy.DelayAfter(attempt, Random.Shared), _time, _stopping.Token);
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                _markingLeaseDirty = null;
            }
        }
    }
}
