using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Ublk.Server.Block;
using Ublk.Server.Interop;
using Ublk.Server.IoUring;
using Tmds.Linux;

namespace Ublk.Server.Device;

/// <summary>What a queue needs to know about its device.</summary>
internal sealed record UblkQueueConfig(
    int DeviceId,
    int QueueId,
    int Depth,
    int MaxIoBytes,
    long SizeBytes,
    bool IoctlEncoding,
    FileDescriptorHandle CharDevice,
    IBlockBackend Backend,
    UblkStats Stats,
    ILogger Logger,
    ulong[]? CpuAffinity = null,
    IUblkRequestObserver? Observer = null);

/// <summary>
/// One ublk hardware queue: a dedicated OS thread (<c>ublk-qN</c>) that owns an io_uring, the queue's mmap'd
/// descriptor array and one page-aligned native buffer per tag (docs/ublk-protocol.md §2, §3).
/// </summary>
/// <remarks>
/// <para>Per tag: FETCH_REQ → CQE (res 0, the request is in the descriptor) → hand to the thread pool
/// (<see cref="UblkRequest"/>) → the backend finishes anywhere → (tag, result) comes back through the
/// <see cref="CompletionChannel"/> → COMMIT_AND_FETCH_REQ, which completes the request and re-arms the tag.</para>
/// <para>Inline mode, for a backend that <see cref="IBlockBackend.CompletesInline"/> (pure memory): the queue thread
/// runs the request itself and queues the COMMIT_AND_FETCH at once; no thread-pool hop, no eventfd. Either way the
/// loop reaps every ready CQE, then submits all the commands they produced and waits in one io_uring_enter.</para>
/// <para>The thread blocks only in io_uring_enter(GETEVENTS): ublk delivers requests as task work that runs only
/// there. It never awaits, never runs backend code that may block, and lives as long as the device: the kernel
/// binds the queue to this task, and its exit would stop (or quiesce) the device.</para>
/// <para>Shutdown: after STOP_DEV every pending command completes with ABORT (-ENODEV); when all tags are aborted
/// and no request is left in the backend, the loop returns and frees the ring, mapping and buffers. Any exception
/// in the loop ends the process (<see cref="Environment.FailFast(string, Exception)"/>): a ring in an unknown state
/// cannot be repaired in-process, and a crash lets USER_RECOVERY take over.</para>
/// </remarks>
internal sealed unsafe class UblkQueue : IDisposable
{
    /// <summary>user_data of the eventfd READ; tags are below 4096.</summary>
    private const ulong WakeupUserData = ulong.MaxValue;

    /// <summary>Queue ring flags, best first; EINVAL falls through to older kernels' sets (§3.3).</summary>
    private static readonly IoUringSetupFlags[] RingFlagCandidates =
    [
        IoUringSetupFlags.CoopTaskrun | IoUringSetupFlags.SingleIssuer | IoUringSetupFlags.DeferTaskrun,
        IoUringSetupFlags.CoopTaskrun,
        IoUringSetupFlags.None,
    ];

    private readonly UblkQueueConfig _config;
    private readonly bool _inline;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _ready = new();
    private readonly List<io_uring_cqe> _startupCompletions = [];
    private ExceptionDispatchInfo? _startupError;

    // Owned by the queue thread from here on.
    private IoUringRing? _ring;
    private MappedRegion? _descriptors;
    private AlignedNativeBuffer[] _buffers = [];
    private UblkRequest[] _requests = [];
    private TagState[] _tagStates = [];
    private TagCompletion[] _taken = [];
    private long[] _startTimestamps = [];
    private CompletionChannel? _completions;
    private uint _fetchOp;
    private uint _commitOp;
    private int _liveTags;
    private int _inBackend;
    private volatile bool _exitRequested;

    public UblkQueue(UblkQueueConfig config)
    {
        _config = config;
        _inline = config.Backend.CompletesInline;
        _thread = new Thread(Run)
        {
            Name = $"ublk-q{config.QueueId}",
            IsBackground = true,
        };
    }

    private enum TagState : byte
    {
        /// <summary>A FETCH or COMMIT_AND_FETCH is pending in the kernel.</summary>
        Fetching,

        /// <summary>The request is with the backend.</summary>
        InBackend,

        /// <summary>Aborted (device stopping) or failed: no command pending, none will be sent.</summary>
        Retired,
    }

    public int QueueId => _config.QueueId;

    /// <summary>Tags of this queue (its most requests in flight).</summary>
    public int Depth => _config.Depth;

    /// <summary>Requests handed to the backend and not yet completed (any thread may read it).</summary>
    public int InFlight => Volatile.Read(ref _inBackend);

    /// <summary>The queue thread's kernel tid (for /proc/PID/task/TID checks), once started.</summary>
    public int ThreadId { get; private set; }

    /// <summary>The flags the queue ring got after fallback.</summary>
    public IoUringSetupFlags RingFlags { get; private set; }

    /// <summary>Whether PR_SET_IO_FLUSHER succeeded on the queue thread.</summary>
    public bool IoFlusherSet { get; private set; }

    /// <summary>Bytes of this queue's tag buffers locked in memory (all of them, unless RLIMIT_MEMLOCK refused).</summary>
    public long LockedBytes { get; private set; }

    /// <summary>Bytes of this queue's tag buffers (depth x max I/O size).</summary>
    public long BufferBytes => (long)_config.Depth * _config.MaxIoBytes;

    /// <summary>
    /// Whether the thread was pinned to the CPUs that submit to this queue (GET_QUEUE_AFFINITY); never for a queue
    /// that runs requests inline.
    /// </summary>
    public bool AffinitySet { get; private set; }

    /// <summary>
    /// Starts the thread and waits until it has submitted a FETCH for every tag (so START_DEV or END_USER_RECOVERY
    /// can follow). Throws if the queue could not be set up.
    /// </summary>
    public void Start()
    {
        _thread.Start();
        _ready.Wait();
        _startupError?.Throw();
    }

    /// <summary>Waits for the thread to finish (after STOP_DEV). False on timeout.</summary>
    public bool Join(TimeSpan timeout) => _thread.Join(timeout);

    /// <summary>
    /// Makes the loop exit without waiting for ABORTs (failure paths, or when STOP_DEV is impossible). It still waits
    /// for requests in the backend (their buffers), then closes the ring, which cancels the pending commands.
    /// </summary>
    public void RequestExit()
    {
        _exitRequested = true;
        _completions?.Wake();
    }

    /// <summary>Frees the start-up signal; call after the thread has exited (<see cref="Join"/>).</summary>
    public void Dispose() => _ready.Dispose();

    private void Run()
    {
        try
        {
            SetUp();
        }
        catch (Exception e)
        {
            _startupError = ExceptionDispatchInfo.Capture(e);
            TearDown();
            _ready.Set();
            return;
        }

        _ready.Set();
        try
        {
            Serve();
        }
        catch (Exception e)
        {
            UblkLog.QueueLoopFailed(_config.Logger, e, _config.DeviceId, _config.QueueId);
            Environment.FailFast($"ublk device {_config.DeviceId} queue {_config.QueueId}: io_uring loop failed; a broken ring cannot be recovered in-process", e);
        }

        TearDown();
        UblkLog.QueueExited(_config.Logger, _config.DeviceId, _config.QueueId);
    }

    private void SetUp()
    {
        ThreadId = Libc.GetTid();
        IoFlusherSet = IoFlusher.TrySetForCurrentThread(_config.Logger);
        // Only a thread-pool queue is pinned: it just relays, and task work stays on the submitting CPU. An inline
        // queue does the backend's work itself; pinned beside the submitter it would take turns with it on one CPU
        // (measured under bench/ublk-fio.sh: 4k random I/O 1.7-1.9x faster unpinned, like loop's unbound worker).
        AffinitySet = !_inline && TryPinToQueueCpus(_config.CpuAffinity);

        int depth = _config.Depth;
        // One SQE per tag plus the eventfd READ; created on this thread (SINGLE_ISSUER binds it here).
        _ring = IoUringRing.CreateWithFallback((uint)depth + 1, RingFlagCandidates);
        RingFlags = _ring.Flags;

        // The descriptor array: read-only, exact length, at the queue's fixed offset (§2.2).
        nuint length = (nuint)RoundUpToPage(depth * UblkConstants.IoDescSize);
        long offset = UblkConstants.CmdBufOffset + (_config.QueueId * UblkConstants.MaxCmdBufSize);
        _descriptors = MappedRegion.Map(_config.CharDevice, length, LibC.PROT_READ, LibC.MAP_SHARED | LibC.MAP_POPULATE, offset,
            $"{UblkConstants.CharDevicePath(_config.DeviceId)} queue {_config.QueueId} descriptors");

        _completions = new CompletionChannel(depth);
        _buffers = new AlignedNativeBuffer[depth];
        _requests = new UblkRequest[depth];
        _tagStates = new TagState[depth];
        _taken = new TagCompletion[depth];
        _startTimestamps = new long[depth];
        Errno lockError = Errno.None;
        for (int tag = 0; tag < depth; tag++)
        {
            _buffers[tag] = new AlignedNativeBuffer(_config.MaxIoBytes);
            _requests[tag] = new UblkRequest(_config.DeviceId, tag, _buffers[tag].Memory, _config.Backend, _completions, _config.Stats, _config.Logger);
            // The data path's memory stays resident: a request never waits for its buffer to come back from swap.
            if (lockError == Errno.None)
            {
                lockError = _buffers[tag].TryLock();
                LockedBytes += lockError == Errno.None ? _config.MaxIoBytes : 0;
            }
        }

        if (lockError != Errno.None)
        {
            UblkLog.TagBuffersNotLocked(_config.Logger, _config.DeviceId, _config.QueueId, LockedBytes, BufferBytes, lockError.ToString(),
                MemlockLimit.Describe());
        }

        _fetchOp = UblkOpcodes.Io(UblkIoCmd.FetchReq, _config.IoctlEncoding);
        _commitOp = UblkOpcodes.Io(UblkIoCmd.CommitAndFetchReq, _config.IoctlEncoding);

        for (int tag = 0; tag < depth; tag++)
        {
            PrepareIoCommand(_fetchOp, tag, 0);
        }

        _liveTags = depth;
        _completions.PrepareWakeupRead(NextSqe(), WakeupUserData);
        _ring.Submit();

        // FETCH errors (wrong encoding, wrong task, bad buffer) complete during the submit. Fail now rather than let
        // START_DEV wait forever for a tag that will never be ready; keep anything else for the loop.
        while (_ring.TryGetCompletion(out io_uring_cqe cqe))
        {
            if (cqe.user_data != WakeupUserData && cqe.res < 0)
            {
                throw new UblkDeviceException(
                    $"ublk device {_config.DeviceId} queue {_config.QueueId}: FETCH_REQ for tag {cqe.user_data} failed",
                    new ErrnoException((Errno)(-cqe.res), "UBLK_IO_FETCH_REQ"));
            }

            _startupCompletions.Add(cqe);
        }

        UblkLog.QueueStarted(_config.Logger, _config.DeviceId, _config.QueueId, ThreadId, RingFlags.ToString(), depth, AffinitySet,
            _inline ? "inline" : "on the thread pool");
    }

    private void Serve()
    {
        IoUringRing ring = _ring!;
        foreach (io_uring_cqe cqe in _startupCompletions)
        {
            Handle(cqe);
        }

        _startupCompletions.Clear();
        while ((_liveTags > 0 && !_exitRequested) || _inBackend > 0)
        {
            ring.SubmitAndWait(1);
            while (ring.TryGetCompletion(out io_uring_cqe cqe))
            {
                Handle(cqe);
            }
        }
    }

    private void Handle(in io_uring_cqe cqe)
    {
        if (cqe.user_data == WakeupUserData)
        {
            OnWakeup(cqe.res);
            return;
        }

        int tag = (int)cqe.user_data;
        switch (cqe.res)
        {
            case UblkConstants.IoResOk:
                Dispatch(tag);
                break;
            case UblkConstants.IoResAbort:
                Retire(tag);
                break;
            default:
                // NEED_GET_DATA (not requested), -EINVAL, -EBUSY: a bug on our side; this tag cannot be used again.
                UblkLog.CommandFailed(_config.Logger, _config.DeviceId, _config.QueueId, tag, cqe.res);
                Retire(tag);
                break;
        }
    }

    private void Retire(int tag)
    {
        if (_tagStates[tag] != TagState.Retired)
        {
            _tagStates[tag] = TagState.Retired;
            _liveTags--;
        }
    }

    /// <summary>A request arrived for <paramref name="tag"/>: validate it, then run it inline or hand it to the thread pool.</summary>
    private void Dispatch(int tag)
    {
        // The kernel wrote the descriptor before posting the CQE we just acquired.
        UblksrvIoDesc desc = ((UblksrvIoDesc*)_descriptors!.Pointer)[tag];
        UblkIoOp op = desc.Op;
        long offset = (long)(desc.StartSector << UblkConstants.SectorShift);
        long length = (long)desc.NrSectors << UblkConstants.SectorShift;
        bool fua = (desc.IoFlags & UblkIoFlags.Fua) != 0;
        UblkStats stats = _config.Stats;

        int rejection = 0;
        switch (op)
        {
            case UblkIoOp.Read:
            case UblkIoOp.Write:
                if (length == 0 || length > _config.MaxIoBytes || !InRange(offset, length))
                {
                    rejection = -(int)Errno.EINVAL;
                }
                else if (op == UblkIoOp.Read)
                {
                    stats.CountRead(length);
                }
                else
                {
                    stats.CountWrite(length, fua);
                }

                break;
            case UblkIoOp.Flush:
                stats.CountFlush();
                break;
            case UblkIoOp.Discard:
            case UblkIoOp.WriteZeroes:
                if (!InRange(offset, length))
                {
                    rejection = -(int)Errno.EINVAL;
                }
                else if (op == UblkIoOp.Discard)
                {
                    stats.CountDiscard(length);
                }
                else
                {
                    stats.CountWriteZeroes(length);
                }

                break;
            default:
                rejection = -(int)Errno.EOPNOTSUPP;
                break;
        }

        if (rejection != 0)
        {
            stats.CountRejected();
            _config.Observer?.RequestCompleted(op, length, TimeSpan.Zero, UblkRequestOutcome.Rejected);
            Commit(tag, rejection);
            return;
        }

        if (_config.Observer is not null)
        {
            _startTimestamps[tag] = Stopwatch.GetTimestamp();
        }

        UblkRequest request = _requests[tag];
        request.Prepare(op, offset, length, fua);
        if (_inline && request.TryRun(out int result))
        {
            stats.CountInline();
            Finish(tag, result); // the COMMIT goes out with this batch's next io_uring_enter
            return;
        }

        // Still running (an inline backend that went asynchronous after all) or about to: it reports back through
        // the completion channel; only this thread reads what is set here, so the order against its Post is moot.
        _tagStates[tag] = TagState.InBackend;
        Volatile.Write(ref _inBackend, _inBackend + 1); // written only on this thread, read by metrics from any thread
        if (!_inline)
        {
            ThreadPool.UnsafeQueueUserWorkItem(request, preferLocal: false);
        }
    }

    /// <summary>The eventfd READ completed: commit every finished request, then re-arm the READ.</summary>
    private void OnWakeup(int result)
    {
        if (result < 0 && result != -(int)Errno.EINTR && result != -(int)Errno.EAGAIN && result != -(int)Errno.ECANCELED)
        {
            ErrnoException.ThrowNegative(result, "read(completion eventfd)");
        }

        int count = _completions!.TakeAll(_taken);
        for (int i = 0; i < count; i++)
        {
            TagCompletion done = _taken[i];
            Volatile.Write(ref _inBackend, _inBackend - 1);
            Finish(done.Tag, done.Result);
        }

        _completions.PrepareWakeupRead(NextSqe(), WakeupUserData);
    }

    /// <summary>The backend finished the request of <paramref name="tag"/>: report it and queue its COMMIT.</summary>
    private void Finish(int tag, int result)
    {
        if (_config.Observer is { } observer)
        {
            UblkRequest request = _requests[tag];
            observer.RequestCompleted(request.Op, request.Length, Stopwatch.GetElapsedTime(_startTimestamps[tag]),
                result < 0 ? UblkRequestOutcome.Failed : UblkRequestOutcome.Ok);
        }

        if (_exitRequested)
        {
            Retire(tag); // abandoning the queue: the ring's teardown fails the request
            return;
        }

        Commit(tag, result);
    }

    private void Commit(int tag, int result)
    {
        _tagStates[tag] = TagState.Fetching;
        PrepareIoCommand(_commitOp, tag, result);
    }

    private void PrepareIoCommand(uint cmdOp, int tag, int result)
    {
        var command = new UblksrvIoCmd
        {
            QId = (ushort)_config.QueueId,
            Tag = (ushort)tag,
            Result = result,
            Addr = _buffers[tag].Address,
        };
        SqePrep.UblkIo(NextSqe(), _config.CharDevice, cmdOp, command, (ulong)tag);
    }

    private IoUringSqe* NextSqe()
    {
        IoUringSqe* sqe = _ring!.GetSqe();
        if (sqe == null)
        {
            // Cannot happen with depth + 1 entries (one command per tag plus the READ), but never drop a command.
            _ring.Submit();
            sqe = _ring.GetSqe();
            if (sqe == null)
            {
                throw new InvalidOperationException("io_uring submission queue is full");
            }
        }

        return sqe;
    }

    private bool InRange(long offset, long length) => offset >= 0 && length >= 0 && offset <= _config.SizeBytes - length;

    private void TearDown()
    {
        // The ring goes first: closing it cancels whatever is still pending before the memory it targets is freed.
        _ring?.Dispose();
        _descriptors?.Dispose();
        foreach (AlignedNativeBuffer buffer in _buffers)
        {
            ((IDisposable)buffer).Dispose();
        }

        _completions?.Dispose();
    }

    /// <summary>
    /// Pins the calling thread to the queue's CPUs, as ublksrv and libublk do: the kernel then queues this queue's
    /// task work on a CPU that submits to it. Best effort (a cpuset may forbid some CPUs).
    /// </summary>
    private static bool TryPinToQueueCpus(ulong[]? mask)
    {
        if (mask is null || Array.TrueForAll(mask, word => word == 0))
        {
            return false;
        }

        fixed (ulong* bits = mask)
        {
            return LibC.sched_setaffinity(0, mask.Length * sizeof(ulong), (cpu_set_t*)bits) == 0;
        }
    }

    private static int RoundUpToPage(int bytes) => (bytes + AlignedNativeBuffer.PageSize - 1) & ~(AlignedNativeBuffer.PageSize - 1);
}
