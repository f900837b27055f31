namespace S3Block.Volume;

/// <summary>
/// Write-back yields to readers: while a read waits for a chunk from S3, and for a quiet period after the last one ends,
/// at most <c>putsWhileReading</c> chunk PUTs run (the ones already running finish); the others start after that. A
/// reader's GET then shares the CPU, the network and the store with a few uploads instead of every one a large backlog
/// allows (issue 12, point 3: on the test VM a cold read during a backlog took 3.3-3.5x its idle latency without this,
/// 1.7-2.2x with it; bench/results/ab-lat-20261208-reads-first.md). The quiet period covers the moment between one read and the next of a reader that reads
/// one request at a time: without it, every upload waiting would start in that gap.
/// </summary>
/// <remarks>Uploads always make progress: at least one PUT may run whatever the readers do, so a steady stream of
/// reads slows write-back down but never stops it (the journal would fill up).</remarks>
internal sealed class ReaderPriority(int putsWhileReading, TimeSpan quietPeriod, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly int _putsWhileReading = Math.Max(1, putsWhileReading);
    private int _reads;
    private int _puts;
    private long _lastReadEnded = long.MinValue; // a timestamp; MinValue: no read yet
    private long _putsDelayed;
    private TaskCompletionSource? _changed;

    /// <summary>Reads waiting for S3 now.</summary>
    public int ReadsWaiting
    {
        get
        {
            lock (_lock)
            {
                return _reads;
            }
        }
    }

    /// <summary>PUTs that waited for readers so far.</summary>
    public long PutsDelayed => Interlocked.Read(ref _putsDelayed);

    public void ReadStarted()
    {
        lock (_lock)
        {
            _reads++;
        }
    }

    public void ReadEnded()
    {
        lock (_lock)
        {
            _reads--;
            _lastReadEnded = time.GetTimestamp();
            WakeLocked(); // waiters recompute how long the quiet period still has to run
        }
    }

    /// <summary>Waits until a PUT may start; pair with <see cref="PutEnded"/>.</summary>
    public async ValueTask PutStartingAsync(CancellationToken cancellationToken)
    {
        var counted = false;
        while (true)
        {
            Task changed;
            TimeSpan quietLeft;
            lock (_lock)
            {
                quietLeft = _reads > 0 ? Timeout.InfiniteTimeSpan
                    : _lastReadEnded == long.MinValue ? TimeSpan.Zero
                    : quietPeriod - time.GetElapsedTime(_lastReadEnded);
                if (_puts < _putsWhileReading || (_reads == 0 && quietLeft <= TimeSpan.Zero))
                {
                    _puts++;
                    return;
                }

                if (!counted)
                {
                    Interlocked.Increment(ref _putsDelayed);
                    counted = true;
                }

                changed = (_changed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            try
            {
                await changed.WaitAsync(quietLeft, time, cancellationToken);
            }
            catch (TimeoutException)
            {
                // The quiet period after the last read is over: look again.
            }
        }
    }

    public void PutEnded()
    {
        lock (_lock)
        {
            _puts--;
            WakeLocked();
        }
    }

    private void WakeLocked()
    {
        _changed?.TrySetResult();
        _changed = null;
    }
}
