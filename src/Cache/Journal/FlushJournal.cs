using System.Diagnostics;
using S3Block.Cache.Platform;

namespace S3Block.Cache.Journal;

/// <summary>
/// The flush journal: an append-only, CRC'd, sequence-numbered log of block writes, TRIMs and volume metadata in
/// segment files on local disk, with group commit, read-back, reclaim and backpressure. Format in
/// <see cref="JournalFormat"/>.
/// </summary>
/// <remarks>
/// <para><b>Contract for the volume.</b> <see cref="AppendAsync"/> returns once the record and every record before it
/// are in the file (page cache), so acknowledgements follow sequence order: it is readable with <see cref="ReadPayload(JournalPosition, long, Span{byte})"/> at once but not yet
/// durable (volatile-cache semantics). <see cref="FlushAsync"/> returns when every record appended before the call
/// (including appends still in flight when it was called) is fsync'ed; <see cref="WaitDurableAsync"/> waits for one
/// record (FUA). <see cref="ReleaseThrough"/> is called when the upload commit covers a sequence. Appends are never
/// failed for lack of space: they are delayed above <see cref="JournalOptions.HighWaterMark"/> and wait at full.</para>
/// <para><b>Threads.</b> Every public member is thread-safe. Appends reserve their place (sequence, segment, offset)
/// under a short lock and write outside it, so many appends write in parallel; nothing is queued in memory. One
/// durability loop, on its own thread so that blocking fsyncs never hold a thread-pool thread, issues the fsyncs: a sync covers every record completely written when it starts, and completes
/// every waiter it covers (group commit).</para>
/// <para><b>Failure.</b> A failed write or fsync faults the journal (<see cref="JournalFaultedException"/> from then
/// on): after a failed fsync Linux may have dropped the dirty pages, so retrying would lie about durability.</para>
/// </remarks>
public sealed partial class FlushJournal : IAsyncDisposable
{
    private readonly string _directory;
    private readonly Guid _volumeId;
    private readonly long _writerEpoch;
    private readonly JournalOptions _options;
    private readonly FileStream _lockFile;
    private readonly Thread _durabilityThread;
    private readonly TaskCompletionSource _durabilityThreadExited = NewSignalSource();
    private readonly WakeSignal _syncSignal = new();
    private readonly LatencyHistogram _syncLatency = new();
    private readonly long _replayDamageFound;

    // Guarded by _lock.
    private readonly Lock _lock = new();
    private readonly List<JournalSegment> _segments;
    private readonly WriteCompletionWindow _writes;
    private readonly PriorityQueue<TaskCompletionSource, long> _durabilityWaiters = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _writtenWaiters = new();
    private JournalSegment? _active;
    private long _nextSequence;
    private long _durableSequence;
    private long _releasedSequence;
    private long _usedBytes;
    private TaskCompletionSource _spaceFreed = NewSignalSource();
    private DateTimeOffset? _diskFullSince;
    private bool _closing;
    private Exception? _fault;

    // Read without the lock.
    private volatile JournalSegment[] _segmentSnapshot;

    // Counters (Interlocked).
    private long _recordsAppended;
    private long _payloadBytesAppended;
    private long _journalBytesAppended;
    private long _syncs;
    private long _durabilityWaits;
    private long _syncTicksTotal;
    private long _lastSyncTicks;
    private long _maxSyncTicks;
    private long _delayedAppends;
    private long _appendsWaitedForSpace;
    private long _delayTicksTotal;
    private int _appendsWaitingForSpace;
    private long _diskFullWaits;

    private FlushJournal(
        string directory,
        Guid volumeId,
        long writerEpoch,
        JournalOptions options,
        FileStream lockFile,
        List<JournalSegment> segments,
        long nextSequence,
        JournalReplayReport report)
    {
        _directory = directory;
        _volumeId = volumeId;
        _writerEpoch = writerEpoch;
        _options = options;
        _lockFile = lockFile;
        _segments = segments;
        _segmentSnapshot = [.. segments];
        _nextSequence = nextSequence;
        _durableSequence = nextSequence - 1;
        _releasedSequence = (segments.Count > 0 ? segments[0].Id : nextSequence) - 1;
        _writes = new WriteCompletionWindow(nextSequence - 1);
        _usedBytes = segments.Sum(s => s.EndOffset);
        _replayDamageFound = report.Damage is null ? 0 : 1;
        ReplayReport = report;
        _spareEnabled = options.PrepareSpareSegment && SparesHelpOn(directory); // before any thread: it may not throw after
        _durabilityThread = new Thread(RunDurabilityLoop) { IsBackground = true, Name = "journal-sync" };
        _durabilityThread.Start();
        StartSpareLoop();
    }

    /// <summary>What replay found when the journal was opened.</summary>
    public JournalReplayReport ReplayReport { get; }

    /// <summary>The journal's directory.</summary>
    public string Directory => _directory;

    /// <summary>The volume this journal belongs to.</summary>
    public Guid VolumeId => _volumeId;

    /// <summary>The writer epoch stamped on segments this instance creates.</summary>
    public long WriterEpoch => _writerEpoch;

    /// <summary>Every record at or below this sequence is completely written (readable, maybe not durable).</summary>
    public long AppendedSequence
    {
        get
        {
            lock (_lock)
            {
                return _writes.WrittenThrough;
            }
        }
    }

    /// <summary>
    /// The last sequence handed out: every append that has returned (and some still writing) is at or below it. FLUSH
    /// and drain target this, so they cover every acknowledged write whatever order the appends finish in.
    /// </summary>
    public long LastReservedSequence
    {
        get
        {
            lock (_lock)
            {
                return _nextSequence - 1;
            }
        }
    }

    /// <summary>Why the journal stopped accepting work (a failed write or fdatasync), or null while it works.</summary>
    public Exception? FaultReason
    {
        get
        {
            lock (_lock)
            {
                return _fault;
            }
        }
    }

    /// <summary>Every record at or below this sequence is fsync'ed.</summary>
    public long DurableSequence => Volatile.Read(ref _durableSequence);

    /// <summary>Bytes the segment files occupy.</summary>
    public long UsedBytes => Volatile.Read(ref _usedBytes);

    /// <summary>The most bytes the journal may occupy (<see cref="JournalOptions.CapacityBytes"/>).</summary>
    public long CapacityBytes => _options.CapacityBytes;

    /// <summary><see cref="UsedBytes"/> / <see cref="CapacityBytes"/>.</summary>
    public double FillRatio => (double)UsedBytes / CapacityBytes;

    /// <summary>The largest payload one record can carry.</summary>
    public long MaxPayloadBytes => _options.MaxPayloadBytes;

    /// <summary>
    /// Opens (creating if needed) the journal in <paramref name="directory"/>, replays it and repairs a torn tail.
    /// </summary>
    /// <param name="directory">The journal's directory; only this journal may use it.</param>
    /// <param name="volumeId">The volume the journal belongs to; a segment of another volume throws <see cref="JournalVolumeMismatchException"/>.</param>
    /// <param name="writerEpoch">Stamped on new segments; an older epoch than the journal's throws <see cref="JournalStaleWriterException"/>.</param>
    /// <param name="firstSequence">Sequence of the first record when the directory holds no segment (at least 1).</param>
    /// <param name="options">Settings.</param>
    /// <param name="onRecord">Receives every valid record, in sequence order, before this method returns.</param>
    /// <returns>The open journal; <see cref="ReplayReport"/> says what was found and repaired.</returns>
    /// <exception cref="JournalCorruptedException">Durable records were corrupted and the policy is Refuse (nothing modified).</exception>
    /// <exception cref="JournalInUseException">Another instance holds the directory.</exception>
    public static FlushJournal Open(
        string directory,
        Guid volumeId,
        long writerEpoch,
        long firstSequence,
        JournalOptions options,
        JournalReplayHandler? onRecord = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(writerEpoch);
        ArgumentOutOfRangeException.ThrowIfLessThan(firstSequence, 1);
        options.Validate();

        directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(directory);
        var lockFile = AcquireDirectoryLock(directory);
        try
        {
            CheckCapacityCanExist(directory, options);
            JournalSyncFailure.CheckAtOpen(directory, options.AcceptSyncFailure);
            DeleteLeftoverSpares(directory);
            var scan = JournalScanner.Scan(directory, volumeId, writerEpoch, onRecord);
            List<JournalSegment> segments;
            JournalReplayReport report;
            try
            {
                (segments, report) = Recover(scan, firstSequence, options.MidJournalCorruption);
                FileDurability.SyncDirectory(directory);
            }
            catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception)
            {
                // Recovery fsyncs what a crashed writer left in the page cache. If that fails, the pages may never
                // reach the disk while they still read back: the next open in this boot must not believe them either.
                JournalSyncFailure.Record(directory, durableThrough: 0, target: scan.NextSequence ?? 0, e);
                throw;
            }

            JournalSyncFailure.Clear(directory);
            return new FlushJournal(directory, volumeId, writerEpoch, options, lockFile, segments, report.NextSequence, report);
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    /// <summary>A snapshot of the counters and gauges.</summary>
    public JournalStatistics GetStatistics()
    {
        long reserved, appended, durable, released, used;
        int segmentCount;
        DateTimeOffset? diskFullSince;
        bool spareReady;
        lock (_lock)
        {
            spareReady = _spare is not null;
            diskFullSince = _diskFullSince;
            reserved = _nextSequence - 1;
            appended = _writes.WrittenThrough;
            durable = _durableSequence;
            released = _releasedSequence;
            used = _usedBytes;
            segmentCount = _segments.Count;
        }

        return new JournalStatistics
        {
            RecordsAppended = Interlocked.Read(ref _recordsAppended),
            PayloadBytesAppended = Interlocked.Read(ref _payloadBytesAppended),
            JournalBytesAppended = Interlocked.Read(ref _journalBytesAppended),
            LastReservedSequence = reserved,
            AppendedSequence = appended,
            DurableSequence = durable,
            ReleasedSequence = released,
            Syncs = Interlocked.Read(ref _syncs),
            DurabilityWaits = Interlocked.Read(ref _durabilityWaits),
            TotalSyncTime = Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _syncTicksTotal)),
            LastSyncDuration = Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _lastSyncTicks)),
            MaxSyncDuration = Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _maxSyncTicks)),
            SyncLatencyBuckets = _syncLatency.Snapshot(),
            DelayedAppends = Interlocked.Read(ref _delayedAppends),
            AppendsWaitedForSpace = Interlocked.Read(ref _appendsWaitedForSpace),
            TotalAppendDelay = Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _delayTicksTotal)),
            AppendsWaitingForSpace = Volatile.Read(ref _appendsWaitingForSpace),
            UsedBytes = used,
            CapacityBytes = _options.CapacityBytes,
            SegmentCount = segmentCount,
            ReplayDamageFound = _replayDamageFound,
            DiskFullSince = diskFullSince,
            DiskFullWaits = Interlocked.Read(ref _diskFullWaits),
            SpareReady = spareReady,
            SegmentsFromSpare = Interlocked.Read(ref _segmentsFromSpare),
            SegmentsOnDemand = Interlocked.Read(ref _segmentsOnDemand),
            SpareFailures = Interlocked.Read(ref _spareFailures),
            SparesSkippedForSpace = Interlocked.Read(ref _sparesSkippedForSpace),
            SpareBytes = spareReady ? _options.SegmentSizeBytes : 0,
        };
    }

    /// <summary>
    /// Stops accepting appends, waits for appends in flight, makes everything durable, and closes the files.
    /// Appends waiting for space fail with <see cref="ObjectDisposedException"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_closing)
            {
                return;
            }

            _closing = true;
            _spaceFreed.TrySetResult();
        }

        _syncSignal.Set();
        try
        {
            await _durabilityThreadExited.Task;
        }
        finally
        {
            await StopSpareLoopAsync(deleteSpare: true);
            _syncSignal.Dispose();
            lock (_lock)
            {
                foreach (var segment in _segments)
                {
                    segment.Handle.Dispose();
                }
            }

            _lockFile.Dispose();
        }
    }

    /// <summary>Throws if the journal is closing or faulted. Call under the lock.</summary>
    private void ThrowIfUnusableLocked()
    {
        if (_fault is not null)
        {
            throw new JournalFaultedException(_fault);
        }

        ObjectDisposedException.ThrowIf(_closing, this);
    }

    /// <summary>Puts the journal into the failed state and fails everyone waiting.</summary>
    private void Fault(Exception error)
    {
        lock (_lock)
        {
            _fault ??= error;
            while (_durabilityWaiters.TryDequeue(out var waiter, out _))
            {
                waiter.TrySetException(new JournalFaultedException(_fault));
            }

            // A lower sequence can never be written now: the appends waiting for it were never acknowledged.
            while (_writtenWaiters.TryDequeue(out var waiter, out _))
            {
                waiter.TrySetException(new JournalFaultedException(_fault));
            }

            _spaceFreed.TrySetResult();
        }

        _syncSignal.Set();
    }

    /// <summary>Publishes the segment list for lock-free readers. Call under the lock.</summary>
    private void PublishSegmentsLocked() => _segmentSnapshot = [.. _segments];

    private static TaskCompletionSource NewSignalSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Refuses a capacity that the file system can never hold (its whole size is smaller). Space taken by other files
    /// (the cache, the embedded store) only delays appends once the disk is full: refusing then would keep the volume
    /// from uploading the very records whose release frees the space.
    /// </summary>
    private static void CheckCapacityCanExist(string directory, JournalOptions options)
    {
        var size = FileDurability.TotalBytes(directory);
        if (options.CapacityBytes + options.SegmentSizeBytes > size)
        {
            throw new JournalCapacityException(directory, options.CapacityBytes, size);
        }
    }

    private static FileStream AcquireDirectoryLock(string directory)
    {
        var path = Path.Combine(directory, JournalFormat.LockFileName);
        try
        {
            // FileShare.None takes an exclusive flock on Linux: a second journal on the directory fails here.
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new JournalInUseException(directory, e);
        }
    }
}
