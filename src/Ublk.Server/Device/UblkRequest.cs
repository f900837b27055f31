using Microsoft.Extensions.Logging;
using Ublk.Server.Block;
using Ublk.Server.Interop;

namespace Ublk.Server.Device;

/// <summary>
/// The backend half of one tag: runs the request against the <see cref="IBlockBackend"/>, either as a reusable
/// thread-pool work item that posts (tag, result) to the queue's <see cref="CompletionChannel"/>, or inline on the
/// queue thread for backends that promise <see cref="IBlockBackend.CompletesInline"/>.
/// </summary>
/// <remarks>
/// A tag carries at most one request at a time (the queue thread owns it from the kernel's CQE until the
/// COMMIT), so one instance per tag is reused without allocation. <see cref="Execute"/> never runs on the queue
/// thread; the backend's ValueTask may complete on any thread, and the continuation only posts the result.
/// </remarks>
internal sealed class UblkRequest : IThreadPoolWorkItem
{
    private readonly IBlockBackend _backend;
    private readonly CompletionChannel _completions;
    private readonly Memory<byte> _buffer;
    private readonly UblkStats _stats;
    private readonly ILogger _logger;
    private readonly int _deviceId;
    private readonly Action _onBackendCompleted;

    private ValueTask _pending;

    public UblkRequest(int deviceId, int tag, Memory<byte> buffer, IBlockBackend backend, CompletionChannel completions, UblkStats stats, ILogger logger)
    {
        _deviceId = deviceId;
        Tag = tag;
        _buffer = buffer;
        _backend = backend;
        _completions = completions;
        _stats = stats;
        _logger = logger;
        _onBackendCompleted = OnBackendCompleted;
    }

    public int Tag { get; }

    public UblkIoOp Op { get; private set; }

    public long Offset { get; private set; }

    public long Length { get; private set; }

    public bool ForceUnitAccess { get; private set; }

    /// <summary>Queue thread: describes the next request for this tag (already validated) before queuing it.</summary>
    public void Prepare(UblkIoOp op, long offset, long length, bool forceUnitAccess)
    {
        Op = op;
        Offset = offset;
        Length = length;
        ForceUnitAccess = forceUnitAccess;
    }

    /// <summary>Thread pool: runs the request; the result is posted to the channel whenever it is ready.</summary>
    public void Execute()
    {
        IoFlusher.EnsureForCurrentThread(_logger);
        if (TryRun(out int result))
        {
            Complete(result);
        }
    }

    /// <summary>
    /// Starts the backend call on the calling thread. True, with the result to COMMIT, when it finished (or failed)
    /// synchronously. False when it is still running: its continuation posts the result to the
    /// <see cref="CompletionChannel"/> later. The queue thread calls this directly for a backend that
    /// <see cref="IBlockBackend.CompletesInline"/>; if such a backend breaks that promise, the request still
    /// completes, through the channel, and the queue thread never waits for it.
    /// </summary>
    public bool TryRun(out int result)
    {
        try
        {
            // Consumed exactly once: by Outcome() here, or by the OnCompleted continuation.
#pragma warning disable CA2012
            ValueTask operation = Start();
#pragma warning restore CA2012
            if (operation.IsCompleted)
            {
                result = Outcome(operation);
                return true;
            }

            _pending = operation;
            operation.GetAwaiter().UnsafeOnCompleted(_onBackendCompleted);
        }
        catch (Exception e)
        {
            // Start() threw synchronously: the backend never took the request.
            result = Fail(e);
            return true;
        }

        result = 0;
        return false;
    }

    private ValueTask Start() => Op switch
    {
        UblkIoOp.Read => _backend.ReadAsync(Offset, _buffer[..(int)Length], CancellationToken.None),
        UblkIoOp.Write => _backend.WriteAsync(Offset, _buffer[..(int)Length], ForceUnitAccess ? WriteFlags.ForceUnitAccess : WriteFlags.None, CancellationToken.None),
        UblkIoOp.Flush => _backend.FlushAsync(CancellationToken.None),
        UblkIoOp.Discard => _backend.DiscardAsync(Offset, Length, CancellationToken.None),
        UblkIoOp.WriteZeroes => _backend.WriteZeroesAsync(Offset, Length, CancellationToken.None),
        _ => throw new BlockIOException((int)Errno.EOPNOTSUPP, $"unsupported ublk op {Op}"),
    };

    private void OnBackendCompleted()
    {
        ValueTask operation = _pending;
        _pending = default;
        Finish(operation);
    }

    private void Finish(ValueTask operation) => Complete(Outcome(operation));

    /// <summary>The result to COMMIT for a completed backend call.</summary>
    private int Outcome(ValueTask operation)
    {
        int result;
        try
        {
            // Exactly once per ValueTask, as pooled IValueTaskSource backends require.
            operation.GetAwaiter().GetResult();
            // READ/WRITE must report the full byte count: a short count makes the kernel requeue the rest,
            // 0 for a WRITE would loop forever and 0 for a READ becomes EIO (§2.6).
            result = Op is UblkIoOp.Read or UblkIoOp.Write ? (int)Length : 0;
        }
        catch (Exception e)
        {
            result = Fail(e);
        }

        return result;
    }

    private int Fail(Exception exception)
    {
        _stats.CountFailed();
        if (exception is BlockIOException blockError)
        {
            return -blockError.Errno;
        }

        UblkLog.BackendFailed(_logger, exception, _deviceId, Op.ToString(), Offset, Length);
        return -(int)Errno.EIO;
    }

    private void Complete(int result) => _completions.Post(Tag, result);
}
