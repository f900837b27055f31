using Microsoft.Extensions.Logging;

namespace Ublk.Server.Device;

/// <summary>Log messages of the ublk server, with stable event ids.</summary>
internal static partial class UblkLog
{
    [LoggerMessage(1, LogLevel.Information, "ublk device {DeviceId} ready: {BlockDevice}, {SizeBytes} bytes, {Queues} queue(s) x depth {Depth}, max I/O {MaxIoBytes} B, features {Features}", EventName = "DeviceReady")]
    public static partial void DeviceReady(ILogger logger, int deviceId, string blockDevice, long sizeBytes, int queues, int depth, int maxIoBytes, string features);

    [LoggerMessage(2, LogLevel.Information, "ublk device {DeviceId} recovered: {BlockDevice} is served by pid {Pid} again", EventName = "DeviceRecovered")]
    public static partial void DeviceRecovered(ILogger logger, int deviceId, string blockDevice, int pid);

    [LoggerMessage(3, LogLevel.Information, "ublk device {DeviceId} stopped ({Stats})", EventName = "DeviceStopped")]
    public static partial void DeviceStopped(ILogger logger, int deviceId, UblkStats stats);

    [LoggerMessage(4, LogLevel.Information, "ublk device {DeviceId} deleted", EventName = "DeviceDeleted")]
    public static partial void DeviceDeleted(ILogger logger, int deviceId);

    [LoggerMessage(5, LogLevel.Warning, "PR_SET_IO_FLUSHER failed on {Thread} ({Errno}): {Reason}. Reclaim in I/O threads may then wait on writeback to this very device (deadlock risk under memory pressure); the count is in IoFlusher.FailureCount", EventName = "IoFlusherUnavailable")]
    public static partial void IoFlusherUnavailable(ILogger logger, string thread, string errno, string reason);

    [LoggerMessage(6, LogLevel.Debug, "ublk queue {QueueId} of device {DeviceId} serving on tid {Tid}: ring flags {RingFlags}, depth {Depth}, pinned to its CPUs {Pinned}, requests run {Dispatch}", EventName = "QueueStarted")]
    public static partial void QueueStarted(ILogger logger, int deviceId, int queueId, int tid, string ringFlags, int depth, bool pinned, string dispatch);

    [LoggerMessage(7, LogLevel.Debug, "ublk queue {QueueId} of device {DeviceId} exited", EventName = "QueueExited")]
    public static partial void QueueExited(ILogger logger, int deviceId, int queueId);

    [LoggerMessage(8, LogLevel.Warning, "ublk device {DeviceId}: {Op} at {Offset} length {Length} failed", EventName = "BackendFailed")]
    public static partial void BackendFailed(ILogger logger, Exception exception, int deviceId, string op, long offset, long length);

    [LoggerMessage(9, LogLevel.Error, "ublk queue {QueueId} of device {DeviceId}: command for tag {Tag} completed with {Result}; the tag is out of service", EventName = "CommandFailed")]
    public static partial void CommandFailed(ILogger logger, int deviceId, int queueId, int tag, int result);

    [LoggerMessage(10, LogLevel.Critical, "ublk queue {QueueId} of device {DeviceId}: the io_uring loop failed; terminating the process", EventName = "QueueLoopFailed")]
    public static partial void QueueLoopFailed(ILogger logger, Exception exception, int deviceId, int queueId);

    [LoggerMessage(11, LogLevel.Warning, "ublk device {DeviceId}: cleanup step '{Step}' failed", EventName = "CleanupFailed")]
    public static partial void CleanupFailed(ILogger logger, Exception exception, int deviceId, string step);

    [LoggerMessage(12, LogLevel.Warning, "ublk device {DeviceId}: still present {Seconds} s after DEL_DEV_ASYNC (is /dev/ublkb{DeviceId} still open or mounted?)", EventName = "DeleteStillReferenced")]
    public static partial void DeleteStillReferenced(ILogger logger, int deviceId, int seconds);

    [LoggerMessage(13, LogLevel.Debug, "ublk device {DeviceId}: START_USER_RECOVERY busy (old server not gone yet), retrying", EventName = "RecoveryBusy")]
    public static partial void RecoveryBusy(ILogger logger, int deviceId);

    [LoggerMessage(14, LogLevel.Warning, "ublk device {DeviceId}: queue {QueueId} did not exit {Seconds} s after STOP_DEV; abandoning its ring", EventName = "QueueExitSlow")]
    public static partial void QueueExitSlow(ILogger logger, int deviceId, int queueId, int seconds);

    [LoggerMessage(15, LogLevel.Information, "ublk device {DeviceId}: the kernel reduced the queue count from {Requested} to {Granted} (one per CPU at most)", EventName = "QueuesClamped")]
    public static partial void QueuesClamped(ILogger logger, int deviceId, int requested, int granted);

    [LoggerMessage(16, LogLevel.Warning, "ublk device {DeviceId}: queue {QueueId} locked only {LockedBytes} of its {BufferBytes} bytes of tag buffers in memory ({Errno}; RLIMIT_MEMLOCK {Limit}): under memory pressure a request may wait for its buffer to be swapped in. Raise LimitMEMLOCK= (the unit sets infinity) or grant CAP_IPC_LOCK", EventName = "TagBuffersNotLocked")]
    public static partial void TagBuffersNotLocked(ILogger logger, int deviceId, int queueId, long lockedBytes, long bufferBytes, string errno, string limit);

    [LoggerMessage(17, LogLevel.Information, "ublk device {DeviceId}: IO_FLUSHER on {FlusherThreads} of {Threads} threads ({ProcessState}); tag buffers locked in memory: {LockedBytes} of {BufferBytes} bytes", EventName = "DataPathProtected")]
    public static partial void DataPathProtected(ILogger logger, int deviceId, int flusherThreads, int threads, string processState, long lockedBytes, long bufferBytes);

    [LoggerMessage(18, LogLevel.Warning, "ublk device {DeviceId}: IO_FLUSHER on only {FlusherThreads} of {Threads} threads ({ProcessState}{Error}); tag buffers locked in memory: {LockedBytes} of {BufferBytes} bytes. A thread without it may, under memory pressure, wait in reclaim for writeback to this very device (deadlock risk): run as root or with CAP_SYS_RESOURCE", EventName = "DataPathExposed")]
    public static partial void DataPathExposed(ILogger logger, int deviceId, int flusherThreads, int threads, string processState, string error, long lockedBytes, long bufferBytes);
}
