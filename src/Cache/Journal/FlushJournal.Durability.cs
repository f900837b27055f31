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
        JournalSegment? unsyncedMark = null;
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
                        if ((segment.LastSequence > _durableSequence && segment.Id <= written) || segment == unsyncedMark)
                        {
                            toSync.Add(segment);
                        }
                    }
                }
                else if (_closing && _writes.InFlight == 0)
                {
                    target = -2;
                }
                else
                {
                    target = -1;
                }
            }

            if (target == -1)
            {
                _syncSignal.Wait();
                continue;
            }

            if (target == -2)
            {
                // Closing: seal the tail, so the last mark (how far the final sync reached) is durable too.
                if (unsyncedMark is not null)
                {
                    TrySync([unsyncedMark], _durableSequence);
                }

                return;
            }

            var start = Stopwatch.GetTimestamp();
            if (!TrySync(toSync, target))
            {
                return;
            }

            RecordSync(Stopwatch.GetTimestamp() - start);
            JournalSegment? mark;
            Exception? markFailure = null;
            lock (_lock)
            {
                _durableSequence = target;
                while (_durabilityWaiters.TryPeek(out var waiter, out var sequence) && sequence <= target)
                {
                    _durabilityWaiters.Dequeue();
                    waiter.TrySetResult();
                }

                // Reserved and written under the lock: an append placed after the mark is reserved only once the mark
                // is in the file, so a crash can never leave an unwritten mark (a hole) below an acknowledged record.
                mark = ReserveSyncMarkLocked(out var markSequence, out var markOffset);
                if (mark is not null)
                {
                    markFailure = WriteSyncMark(mark, markSequence, markOffset, target);
                }
            }

            if (markFailure is not null)
            {
                Fault(markFailure);
                return;
            }

            unsyncedMark = mark;
        }
    }

    /// <summary>
    /// fsyncs the segments. On failure the journal faults and the failure is recorded where the next open finds it
    /// (<see cref="JournalSyncFailure"/>): after a failed fdatasync the kernel may have dropped the dirty pages while
    /// the page cache still shows their data, and a later fsync would report success for them.
    /// </summary>
    private bool TrySync(List<JournalSegment> segments, long target)
    {
        try
        {
            if (SyncFailureForTests is { } inject)
            {
                inject(target);
            }

            SyncRoundObserverForTests?.BeforeSync([.. segments.Select(s => s.Path)]);
            foreach (var segment in segments)
            {
                SyncSegment(segment);
            }

            SyncRoundObserverForTests?.AfterSync();
            return true;
        }
        catch (Exception e)
        {
            JournalSyncFailure.Record(_directory, Volatile.Read(ref _durableSequence), target, e);
            Fault(e);
            return false;
        }
    }

    /// <summary>Test seam: called before each sync round with its target; throw to simulate a failed fdatasync.</summary>
    internal Action<long>? SyncFailureForTests { get; set; }

    /// <summary>Test seam: told which files each sync round makes durable, so a test can simulate a power cut.</summary>
    internal ISyncRoundObserver? SyncRoundObserverForTests { get; set; }

    /// <summary>Sees the journal's sync rounds (tests: what a power cut may lose).</summary>
    internal interface ISyncRoundObserver
    {
        /// <summary>A round is about to fdatasync these files: what they hold now is durable once it succeeds.</summary>
        void BeforeSync(IReadOnlyList<string> paths);

        /// <summary>The round's fdatasyncs succeeded.</summary>
        void AfterSync();
    }

    /// <summary>
    /// Test seam: what a SIGKILL does to the journal. The durability thread stops at once without syncing, waiters
    /// fail, files are closed (an append still before its write never writes); nothing is flushed or sealed.
    /// </summary>
    internal async Task CrashForTestsAsync()
    {
        Fault(new ObjectDisposedException(nameof(FlushJournal), "crashed (test)"));
        await _durabilityThreadExited.Task;
        await StopSpareLoopAsync(deleteSpare: false);
        lock (_lock)
        {
            _closing = true;
            foreach (var segment in _segments)
            {
                segment.IsDeleted = true;
                segment.Handle.Dispose();
            }
        }

        _lockFile.Dispose();
    }

    /// <summary>
    /// Reserves room for a sync mark after the last reserved record of the active segment, or returns null when there
    /// is no record before it or no room (a mark never starts a segment and never waits for space). Call under the lock.
    /// </summary>
    private JournalSegment? ReserveSyncMarkLocked(out long sequence, out long offset)
    {
        sequence = _nextSequence - 1;
        offset = 0;
        var segment = _active;
        var size = JournalFormat.RecordSize(0, _options.RecordAlignment);
        if (segment is null || segment.LastSequence < segment.Id
            || segment.EndOffset + size > _options.SegmentSizeBytes || _usedBytes + size > _options.CapacityBytes)
        {
            return null;
        }

        offset = segment.EndOffset;
        segment.EndOffset += size;
        _usedBytes += size;
        return segment;
    }

    /// <summary>Writes a sync mark (see <see cref="JournalFormat"/>) into the page cache; returns the failure, if any.</summary>
    private static Exception? WriteSyncMark(JournalSegment segment, long sequence, long offset, long durableThrough)
    {
        var unit = new byte[segment.Alignment];
        new RecordHeader(JournalRecordType.SyncMark, sequence, 0, 0, 0, durableThrough).Write(unit, []);
        try
        {
            RandomAccess.Write(segment.Handle, unit, offset);
            return null;
        }
        catch (ObjectDisposedException) when (segment.IsDeleted)
        {
            return null; // Released meanwhile: nothing in it needs vouching for.
        }
        catch (Exception e)
        {
            return e;
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
