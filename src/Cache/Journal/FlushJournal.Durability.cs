using System.Diagnostics;

using S3Block.Cache.Platform;

namespace S3Block.Cache.Journal;

public sealed partial class FlushJournal
{
    /// <summary>
    /// FLUSH: completes when every record appended before this call is durable, including appends that had
    /// reserved their sequence but were still writing.
    /// </summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        long target;
        lock (_lock)
        {
            if (_fault is not null)
            {
                return Task.FromException(new JournalFaultedException(_fault));
            }

            target = _nextSequence - 1;
        }

        return WaitDurableAsync(target, cancellationToken);
    }

    /// <summary>
    /// FUA: completes when the record with <paramref name="sequence"/> (and so every earlier one) is durable. Does not
    /// wait for later appends still in flight.
    /// </summary>
    /// <remarks>The task fails with <see cref="ArgumentOutOfRangeException"/> if no record with that sequence was appended yet.</remarks>
    public Task WaitDurableAsync(long sequence, CancellationToken cancellationToken = default)
    {
        if (sequence <= Volatile.Read(ref _durableSequence))
        {
            return Task.CompletedTask;
        }

        TaskCompletionSource waiter;
        lock (_lock)
        {
            if (_fault is not null)
            {
                return Task.FromException(new JournalFaultedException(_fault));
            }

            if (sequence <= _durableSequence)
            {
                return Task.CompletedTask;
            }

            if (sequence >= _nextSequence)
            {
                return Task.FromException(new ArgumentOutOfRangeException(
                    nameof(sequence), sequence, $"No record {sequence} was appended (the last is {_nextSequence - 1})."));
            }

            waiter = NewSignalSource();
            _durabilityWaiters.Enqueue(waiter, sequence);
        }

        Interlocked.Increment(ref _durabilityWaits);
        _syncSignal.Set();

        // A cancelled caller stops waiting; its entry stays queued until a sync passes it (bounded by the callers).
        return cancellationToken.CanBeCanceled ? waiter.Task.WaitAsync(cancellationToken) : waiter.Task;
    }

    /// <summary>
    /// The one place that fsyncs. Each round: take "written through" W; if some waiter needs a sequence ≤ W (or the
    /// journal is closing), fsync every segment holding records in (durable, W]; then durable = W and every waiter
    /// at or below W is completed. Waiters arriving during an fsync are served by the next round, which is what
    /// makes one fsync serve many FLUSHes.
    /// </summary>
    private void RunDurabilityLoop()
    {
        try
        {
            DurabilityRounds();
        }
        catch (Exception e)
        {
            Fault(e);
        }
        finally
        {
            _durabilityThreadExited.TrySetResult();
        }
    }

    private void DurabilityRounds()
    {
        var toSync = new List<JournalSegment>();
        while (true)
        {
            _syncSignal.Reset();
            long target;
            lock (_lock)
            {
                if (_fault is not null)
                {
                    return;
                }

                var written = _writes.WrittenThrough;
                var needed = _closing
                    || (_durabilityWaiters.TryPeek(out _, out var earliest) && earliest <= written);
                if (needed && written > _durableSequence)
                {
                    target = written;
                    toSync.Clear();
                    foreach (var segment in _segments)
                    {
                        if (segment.LastSequence > _durableSequence && segment.Id <= written)
                        {
                            toSync.Add(segment);
                        }
                    }
                }
                else if (_closing && _writes.InFlight == 0)
                {
                    return;
                }
                else
                {
                    target = -1;
                }
            }

            if (target < 0)
            {
                _syncSignal.Wait();
                continue;
            }

            var start = Stopwatch.GetTimestamp();
            try
            {
                foreach (var segment in toSync)
                {
                    SyncSegment(segment);
                }
            }
            catch (Exception e)
            {
                Fault(e);
                return;
            }

            RecordSync(Stopwatch.GetTimestamp() - start);
            lock (_lock)
            {
                _durableSequence = target;
                while (_durabilityWaiters.TryPeek(out var waiter, out var sequence) && sequence <= target)
                {
                    _durabilityWaiters.Dequeue();
                    waiter.TrySetResult();
                }
            }
        }
    }

    private static void SyncSegment(JournalSegment segment)
    {
        try
        {
            // fdatasync: the data and the size needed to read it back, not timestamps.
            FileDurability.DataSync(segment.Handle);
        }
        catch (ObjectDisposedException) when (segment.IsDeleted)
        {
            // Released while we were about to sync it: its records no longer need to be durable.
        }
    }

    private void RecordSync(long ticks)
    {
        Interlocked.Increment(ref _syncs);
        Interlocked.Add(ref _syncTicksTotal, ticks);
        Interlocked.Exchange(ref _lastSyncTicks, ticks);
        if (ticks > Interlocked.Read(ref _maxSyncTicks))
        {
            Interlocked.Exchange(ref _maxSyncTicks, ticks); // Only this loop writes it.
        }

        _syncLatency.Record(ticks);
    }
}
