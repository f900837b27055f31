using Microsoft.Extensions.Logging;
using Ublk.Server.Block;
using S3Block.Cache.Journal;
using S3Block.ObjectStore;

namespace S3Block.Volume;

/// <summary>
/// A block device whose data lives in an object store as fixed-size chunks, behind the local flush journal
/// (dirty data) and a clean-chunk cache. Protocol and layout: docs/volume-format.md.
/// </summary>
/// <remarks>
/// <para><b>Write path.</b> A write is appended to the journal, indexed in <see cref="DirtyIndex"/> and acknowledged
/// (volatile-cache semantics); FLUSH waits for the journal's fdatasync (and, in <see cref="FlushMode.Remote"/>, for a
/// commit); FUA waits for its own record.</para>
/// <para><b>Upload.</b> One background loop cuts at a journal position, builds each dirty chunk's image as of that
/// position, uploads the images, then publishes a commit record (partial file <c>S3Volume.Upload.cs</c>).</para>
/// <para><b>Read path.</b> The committed chunk (cache, else store) with the dirty extents applied in sequence order.</para>
/// <para><b>Locking.</b> <see cref="_lock"/> guards the chunk map, the dirty index and the commit bookkeeping; it is
/// never held across I/O.</para>
/// </remarks>
public sealed partial class S3Volume : IBlockBackend
{
    private readonly IObjectStore _store;
    private readonly VolumeKeys _keys;
    private readonly VolumeDescriptor _descriptor;
    private readonly FlushJournal _journal;
    private readonly VolumeBoundChunkCache _cache;
    private readonly VolumeOptions _options;
    private readonly VolumeLease _lease;
    private readonly LeaseRenewer _renewer;
    private readonly Guid _node;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _fetchSlots;
    private readonly SemaphoreSlim _uploadSlots;
    private readonly SemaphoreSlim _imageSlots;
    private readonly ReaderPriority _readerPriority;
    private readonly Lazy<Task> _fetchesStopped; // every fetch slot taken at close: no fetch or cache fill runs after
    private readonly CancellationTokenSource _stopping = new();
    private readonly AsyncSignal _uploadWanted = new();
    private readonly List<Task> _loops = [];

    // Guarded by _lock.
    private readonly Lock _lock = new();
    private readonly ChunkMap _map;
    private readonly DirtyIndex _dirty;
    private readonly ContiguousSequence _indexed;
    private readonly List<(long Sequence, TaskCompletionSource Done)> _commitWaiters = [];
    private long _lastCommitNumber;
    private long _committedSequence;
    private DateTimeOffset? _lastCommitTime;
    private Exception? _fault;

    private S3Volume(OpenContext context, CommittedState state, FlushJournal journal, VolumeLease lease, LeaseRenewer renewer, long committedSequence)
    {
        _store = context.Store;
        _keys = new VolumeKeys(state.Descriptor.Name);
        _descriptor = state.Descriptor;
        _journal = journal;
        _cache = new VolumeBoundChunkCache(context.Cache, state.Descriptor.VolumeId); // entries of another volume are never found
        _options = context.Options;
        _lease = lease;
        _renewer = renewer;
        _node = context.Node;
        _logger = context.Logger;
        _time = context.Time;
        _map = state.Chunks;
        _dirty = new DirtyIndex(_descriptor.ChunkSizeBytes);
        _indexed = new ContiguousSequence(journal.AppendedSequence);
        _committedSequence = committedSequence;
        _lastCommitNumber = state.LastCommitNumber;
        _lastCommitTime = state.LastCommitTime;
        _lastCheckpointNumber = state.CheckpointNumber;
        var fetchSlots = _options.MaxFetchesInFlight; // the options object may change later; the slots do not
        _fetchSlots = new SemaphoreSlim(fetchSlots, fetchSlots);
        _uploadSlots = new SemaphoreSlim(_options.MaxUploadsInFlight, _options.MaxUploadsInFlight);
        _imageSlots = new SemaphoreSlim(ImageWorkers, ImageWorkers);
        _readerPriority = new ReaderPriority(_options.UploadsWhileReading, ReadQuietPeriod, _time);
        _readAheadChunks = context.Cache is NoChunkCache ? 0 : _options.ReadAheadChunks;
        _readAheadSlots = _readAheadChunks > 0 ? new SemaphoreSlim(_readAheadChunks, _readAheadChunks) : null;
        _fetchesStopped = new Lazy<Task>(() => TakeEverySlotAsync(_fetchSlots, fetchSlots));
        _readAheadStop = new Lazy<Task>(() => _readAheadSlots is null ? Task.CompletedTask : TakeEverySlotAsync(_readAheadSlots, _readAheadChunks));
    }

    /// <summary>
    /// How many chunk images a commit works on at once in its main CPU passes (applying journal records, checking for
    /// zeros, storing in the local cache; the base read and any hashing the store does on PUT are outside): one core
    /// fewer than the machine has, at least one. Uploads
    /// still overlap up to <see cref="VolumeOptions.MaxUploadsInFlight"/> while they wait for the network, but the CPU
    /// part of a commit of many chunks never takes every core from the requests in flight (measured on 2 cores: with 8
    /// images at once, 4 KiB write + fdatasync QD 1 stalled to 1 IOPS about once per commit).
    /// </summary>
    internal static int ImageWorkers { get; } = Math.Max(1, Environment.ProcessorCount - 1);

    /// <summary>Waits until every one of <paramref name="count"/> slots is free and keeps them: whatever ran on them has
    /// ended, and nothing starts on them again (how close stops fetches and read-aheads).</summary>
    private static async Task TakeEverySlotAsync(SemaphoreSlim slots, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await slots.WaitAsync(CancellationToken.None);
        }
    }

    /// <summary>How long after the last read waiting for S3 write-back keeps yielding to readers
    /// (<see cref="VolumeOptions.UploadsWhileReading"/>): longer than the gap between two reads of a reader that reads
    /// one request at a time, short enough that a PUT held back barely delays a commit.</summary>
    internal static TimeSpan ReadQuietPeriod { get; } = TimeSpan.FromSeconds(1);

    public long SizeBytes => _descriptor.SizeBytes;

    public int LogicalBlockSize => _descriptor.LogicalBlockSize;

    public VolumeDescriptor Descriptor => _descriptor;

    public long Epoch => _lease.Epoch;

    /// <summary>
    /// Whether the newest commit found at open was this node's (or there was none): nobody else has written the volume
    /// since this node last did, so what a device of this node showed before is still the volume's data (the daemon
    /// re-attaches such a device only then).
    /// </summary>
    public bool ContinuesThisNodesWrites { get; private init; }

    /// <summary>What replaying the journal found at open.</summary>
    public JournalReplayReport JournalReplay => _journal.ReplayReport;

    /// <summary>The journal, for its statistics.</summary>
    public FlushJournal Journal => _journal;

    /// <summary>
    /// Opens a volume for writing: takes the lease (and keeps renewing it from then on), replays the local journal,
    /// fences older writers with an empty commit, and starts the upload loop.
    /// </summary>
    /// <exception cref="VolumeInUseException">Another daemon holds the lease, or its last holder may hold flushed data
    /// that is not in S3 (<see cref="VolumeHoldsUnsyncedDataException"/>) and the takeover was not forced.</exception>
    /// <exception cref="VolumeException">The volume is missing or damaged, or the local journal is stale.</exception>
    public static async Task<S3Volume> OpenAsync(OpenContext context, CancellationToken cancellationToken)
    {
        var problem = context.Options.Validate().FirstOrDefault();
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(context));
        }

        var keys = new VolumeKeys(context.VolumeName);
        var state = await VolumeCatalog.OpenAsync(context.Store, context.VolumeName, cancellationToken);
        var lease = await VolumeLease.AcquireAsync(
            context.Store, keys, context.Node, context.Options.LeaseTtl, context.Options.LeaseExpiryMargin, state.LastEpoch, state.LastCommitNumber,
            context.ForceTakeover, context.Time, cancellationToken);
        if (lease.ForcedTakeover is { } forced)
        {
            VolumeLog.ForcedTakeover(context.Logger, context.VolumeName, forced);
        }

        // Renewed from now on: replaying a long journal must not outlast the TTL.
        var renewer = LeaseRenewer.Start(lease, context.Options.LeaseTtl, context.Time, context.Logger, context.VolumeName);
        FlushJournal? journal = null;
        try
        {
            var sameWriter = state.LastCommitNumber == 0 || state.LastWriterNode == context.Node;
            var replayed = new List<JournalRecord>();
            journal = OpenJournal(context, state, lease, replayed);
            if (sameWriter && journal.AppendedSequence < state.LastJournalSequence)
            {
                // The local journal ends before what S3 already holds (its disk lost data S3 has): everything in it is in
                // S3, and continuing it would hand out sequences S3 already covers. Keep it aside and start afresh.
                await journal.DisposeAsync();
                var aside = $"{context.JournalDirectory}.behind-{context.Time.GetUtcNow():yyyyMMddHHmmss}";
                Directory.Move(context.JournalDirectory, aside);
                VolumeLog.JournalBehind(context.Logger, context.VolumeName, state.LastJournalSequence, aside);
                replayed.Clear();
                journal = OpenJournal(context, state, lease, replayed);
            }

            // Our own journal's records up to the newest commit are in S3 already; anything else must be replayed, which
            // is safe only if nobody else has written the volume since this journal was written.
            // Without our own commit to compare with, every record we still hold may be missing from S3.
            var committedSequence = sameWriter ? state.LastJournalSequence : journal.AppendedSequence;
            var pending = replayed
                .Where(r => (!sameWriter || r.Sequence > committedSequence) && r.Type is JournalRecordType.Write or JournalRecordType.Zero)
                .ToList();
            if (!sameWriter && pending.Count > 0)
            {
                throw new VolumeException(
                    $"the local journal in {context.JournalDirectory} holds {pending.Count} writes, but volume '{context.VolumeName}' was written by " +
                    $"another node (commit {state.LastCommitNumber}) since; replaying them would corrupt it. Move the journal aside to discard them.");
            }

            if (context.AfterJournalReplayForTests is { } hook)
            {
                await hook();
            }

            var volume = new S3Volume(context, state, journal, lease, renewer, Math.Min(committedSequence, journal.AppendedSequence))
            {
                ContinuesThisNodesWrites = sameWriter,
            };
            volume.IndexReplayed(pending);
            journal.ReleaseThrough(volume._committedSequence);
            renewer.Attach(volume.LeaseReport, volume.Fault);
            await volume.PublishFenceAsync(cancellationToken);
            volume.StartLoops(state);
            VolumeLog.Opened(context.Logger, context.VolumeName, state.Descriptor.SizeBytes, state.Chunks.Count, volume._lastCommitNumber, lease.Epoch, pending.Count, volume._dirty.DirtyBytes);
            return volume;
        }
        catch
        {
            if (journal is not null)
            {
                await journal.DisposeAsync();
            }

            await renewer.StopAsync();
            await ReleaseQuietlyAsync(lease);
            throw;
        }
    }

    /// <summary>An open that failed after taking the lease gives it back; the lease still says "opening", so another node
    /// does not take it without force (the local journal may hold flushed data).</summary>
    private static async Task ReleaseQuietlyAsync(VolumeLease lease)
    {
        try
        {
            await lease.ReleaseAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is ObjectStoreException or VolumeFencedException)
        {
            // It expires on its own.
        }
    }

    /// <summary>
    /// Opens and replays the journal. A torn tail (what a crash leaves) is cut and reported; corruption of records
    /// that had been made durable refuses the volume, because serving without them would silently return old data.
    /// </summary>
    private static FlushJournal OpenJournal(OpenContext context, CommittedState state, VolumeLease lease, List<JournalRecord> replayed)
    {
        FlushJournal journal;
        try
        {
            journal = FlushJournal.Open(
                context.JournalDirectory, state.Descriptor.VolumeId, lease.Epoch, Math.Max(1, state.LastJournalSequence + 1), context.JournalOptions,
                (in JournalRecord record, ReadOnlySpan<byte> _) => replayed.Add(record));
        }
        catch (JournalCorruptedException e)
        {
            VolumeLog.JournalCorrupt(context.Logger, context.VolumeName, e.Report.Damage?.ToString() ?? "unknown", e.Report.ValidRecordsAfterDamage);
            throw new VolumeException(
                $"the local journal of volume '{context.VolumeName}' is corrupt: {e.Report.Damage}, with {e.Report.ValidRecordsAfterDamage} durable " +
                "records after it; refusing to serve data that would silently miss them. Inspect the journal, or move it aside to continue from S3.", e);
        }

        var report = journal.ReplayReport;
        if (report.Damage is { } damage)
        {
            VolumeLog.JournalTornTail(context.Logger, context.VolumeName, damage.ToString(), report.BytesDiscarded, report.ValidRecordsAfterDamage);
        }

        return journal;
    }

    /// <summary>
    /// Stops the volume. With <paramref name="drain"/>, first uploads everything and releases the lease so another
    /// node may take over at once; without it, dirty data stays in the journal for the next start on this node.
    /// </summary>
    public async Task CloseAsync(bool drain, IProgress<DrainProgress>? progress, CancellationToken cancellationToken)
    {
        if (drain && _fault is null)
        {
            await DrainAsync(progress, cancellationToken);
        }

        await StopLoopsAsync();
        await StopReadAheadAsync();
        await _fetchesStopped.Value; // the cache fills of reads' fetches end with them
        if (drain && _fault is null)
        {
            // Clean after the drain: another node may take the volume at once without force.
            await _lease.ReleaseAsync(LeaseReport(), cancellationToken);
        }

        await _journal.DisposeAsync();
        if (drain && _fault is null)
        {
            // Everything is in S3: an empty journal lets any node take over next without a stale-journal refusal.
            Directory.Delete(_journal.Directory, recursive: true);
        }

        _fetchSlots.Dispose();
        _uploadSlots.Dispose();
        _imageSlots.Dispose();
        _readAheadSlots?.Dispose();
    }

    /// <summary>Stops without draining: what a crash leaves behind, minus the lost page cache.</summary>
    public ValueTask DisposeAsync() => new(CloseAsync(drain: false, progress: null, CancellationToken.None));

    /// <summary>Test seam: abandons the volume as a killed process would (no drain, no lease release, no sync).</summary>
    internal async Task CrashForTestsAsync()
    {
        await StopLoopsAsync();
        await StopReadAheadAsync();
        await _fetchesStopped.Value; // no cache fill outlives the volume: the caller disposes the cache next
        await _journal.CrashForTestsAsync();
    }

    /// <summary>Test seam: the volume's journal (hooks for crash and power-cut simulation).</summary>
    internal FlushJournal JournalForTests => _journal;

    public VolumeStatistics GetStatistics()
    {
        lock (_lock)
        {
            var oldest = _dirty.OldestJournaledAt();
            return new VolumeStatistics
            {
                Volume = _keys.Name,
                Epoch = _lease.Epoch,
                DirtyBytes = _dirty.DirtyBytes,
                DirtyExtents = _dirty.ExtentCount,
                DirtyChunks = _dirty.DirtyChunkCount,
                OldestDirtyAge = oldest is null ? TimeSpan.Zero : _time.GetElapsedTime(oldest.Value),
                LastCommitNumber = _lastCommitNumber,
                CommittedSequence = _committedSequence,
                IndexedSequence = _indexed.CompletedThrough,
                LastCommitTime = _lastCommitTime,
                CommitsPublished = Interlocked.Read(ref _commitsPublished),
                ChunksUploaded = Interlocked.Read(ref _chunksUploaded),
                BytesUploaded = Interlocked.Read(ref _bytesUploaded),
                ChunksZeroed = Interlocked.Read(ref _chunksZeroed),
                StoreRetries = Interlocked.Read(ref _storeRetries) + _renewer.Failures,
                ChunkFetches = Interlocked.Read(ref _chunkFetches),
                ReadAheadFetches = Interlocked.Read(ref _readAheadFetches),
                ReadAheadJoins = Interlocked.Read(ref _readAheadJoins),
                UploadsYieldedToReads = _readerPriority.PutsDelayed,
                BytesFetched = Interlocked.Read(ref _bytesFetched),
                CacheHits = Interlocked.Read(ref _cacheHits),
                CheckpointsWritten = Interlocked.Read(ref _checkpointsWritten),
                GarbageDeleted = Interlocked.Read(ref _garbageDeleted),
                GarbagePending = _garbage.Count,
                Fault = _fault?.Message,
                JournalFault = _journal.FaultReason?.Message,
            };
        }
    }

    private void IndexReplayed(List<JournalRecord> records)
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            foreach (var record in records)
            {
                _dirty.Add(record.DeviceOffset, record.Length, record.Position, record.Type == JournalRecordType.Zero, now);
            }
        }
    }

    private void StartLoops(CommittedState openedAt)
    {
        _loops.Add(Task.Run(() => RunUploadLoopAsync(_stopping.Token)));
        InitialSweep = Task.Run(() => SweepUnreferencedAsync(openedAt, _stopping.Token));
        _loops.Add(InitialSweep);
    }

    /// <summary>The background sweep started at open (tests wait for it).</summary>
    internal Task InitialSweep { get; private set; } = Task.CompletedTask;

    private async Task StopLoopsAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync();
        }

        try
        {
            await Task.WhenAll(_loops);
        }
        catch (OperationCanceledException)
        {
        }

        await _renewer.StopAsync();

        lock (_lock)
        {
            foreach (var (_, done) in _commitWaiters)
            {
                done.TrySetException(new BlockIOException(BlockIOException.EIO, "the volume is closing"));
            }

            _commitWaiters.Clear();
        }
    }

    /// <summary>Stops writes for good after losing the volume to another writer (or a broken journal).</summary>
    private void Fault(Exception reason)
    {
        lock (_lock)
        {
            _fault ??= reason;

            // A Remote-mode FLUSH waiting for a commit would wait forever: no commit is published any more.
            foreach (var (_, done) in _commitWaiters)
            {
                done.TrySetException(new BlockIOException(BlockIOException.EIO, $"volume '{_keys.Name}' is read-only: {reason.Message}", reason));
            }

            _commitWaiters.Clear();
        }

        VolumeLog.Faulted(_logger, reason, _keys.Name, reason.Message);
    }

    private void ThrowIfFaulted()
    {
        var fault = Volatile.Read(ref _fault);
        if (fault is not null)
        {
            throw new BlockIOException(BlockIOException.EIO, $"volume '{_keys.Name}' is read-only: {fault.Message}", fault);
        }
    }

    /// <summary>What <see cref="OpenAsync"/> needs.</summary>
    public sealed record OpenContext
    {
        public required IObjectStore Store { get; init; }

        public required string VolumeName { get; init; }

        public required string JournalDirectory { get; init; }

        public JournalOptions JournalOptions { get; init; } = new();

        public ICleanChunkCache Cache { get; init; } = NoChunkCache.Instance;

        public VolumeOptions Options { get; init; } = new();

        /// <summary>This host's stable identity (see <see cref="NodeIdentity"/>).</summary>
        public required Guid Node { get; init; }

        /// <summary>Take the lease even if another node holds it.</summary>
        public bool ForceTakeover { get; init; }

        public ILogger Logger { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public TimeProvider Time { get; init; } = TimeProvider.System;

        /// <summary>Test seam: runs after the journal is replayed, before the volume is built (a slow replay).</summary>
        internal Func<Task>? AfterJournalReplayForTests { get; init; }
    }
}

/// <summary>How far a drain has got.</summary>
/// <param name="DirtyBytes">Bytes still not in S3.</param>
/// <param name="LastCommitNumber">The newest published commit.</param>
public readonly record struct DrainProgress(long DirtyBytes, long LastCommitNumber);
