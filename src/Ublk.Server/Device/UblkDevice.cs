using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ublk.Server.Block;
using Ublk.Server.Interop;
using Tmds.Linux;

namespace Ublk.Server.Device;

/// <summary>
/// A ublk block device (/dev/ublkbN) served from an <see cref="IBlockBackend"/>: the facade over the control plane
/// (<see cref="UblkControl"/>) and the queues (<see cref="UblkQueue"/>).
/// </summary>
/// <remarks>
/// <para>Lifecycle (docs/ublk-protocol.md §1.8, §4): <see cref="Create"/> = ADD_DEV → SET_PARAMS → open
/// /dev/ublkcN → start the queue threads (each FETCHes all its tags) → START_DEV. <see cref="Stop"/> = STOP_DEV
/// (serving until it returns) → queues see ABORT and exit → close /dev/ublkcN. <see cref="Delete"/> = Stop, then
/// DEL_DEV_ASYNC (or DEL_DEV). <see cref="Dispose"/> = Delete.</para>
/// <para>A failed <see cref="Create"/> deletes the device it added. <see cref="Recover"/> re-attaches to a device a
/// crashed daemon left quiesced (START_USER_RECOVERY → queues → END_USER_RECOVERY).</para>
/// <para>All methods block and must be called from a thread that does not serve I/O (not a queue thread).</para>
/// </remarks>
public sealed class UblkDevice : IDisposable
{
    private static readonly TimeSpan QueueExitTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DeleteWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CharDeviceOpenTimeout = TimeSpan.FromSeconds(2);

    private readonly UblkControl _control;
    private readonly IBlockBackend _backend;
    private readonly ILogger _logger;
    private readonly IUblkRequestObserver? _observer;
    private readonly List<UblkQueue> _queues = [];
    private FileDescriptorHandle? _charDevice;
    private bool _stopped;
    private bool _deleted;
    private bool _disposed;

    private UblkDevice(UblkControl control, IBlockBackend backend, UblkDeviceInfo info, ILogger logger, IUblkRequestObserver? observer)
    {
        _control = control;
        _backend = backend;
        _logger = logger;
        _observer = observer;
        Info = info;
    }

    public UblkDeviceInfo Info { get; }

    public UblkStats Stats { get; } = new();

    /// <summary>Each queue's requests in the backend and its depth, in queue order (for metrics).</summary>
    public IReadOnlyList<UblkQueueLoad> QueueLoads() => _queues.ConvertAll(q => new UblkQueueLoad(q.QueueId, q.InFlight, q.Depth));

    /// <summary>Kernel tids of the queue threads, in queue order.</summary>
    public IReadOnlyList<int> QueueThreadIds => _queues.ConvertAll(q => q.ThreadId);

    /// <summary>Whether every queue thread got PR_SET_IO_FLUSHER.</summary>
    public bool IoFlusherOnAllQueues => _queues.TrueForAll(q => q.IoFlusherSet);

    /// <summary>Bytes of tag buffers locked in memory, over all queues.</summary>
    public long LockedBufferBytes => _queues.Sum(q => q.LockedBytes);

    /// <summary>
    /// Says, once the device serves, how many of the process's threads have IO_FLUSHER (read from /proc/self/task, so
    /// runtime threads count too) and how much of the tag buffers is locked; a warning if anything is missing.
    /// </summary>
    private void LogDataPathProtection()
    {
        (int threads, int flagged) = TaskFlags.CountOwnThreads();
        long locked = LockedBufferBytes;
        long buffers = _queues.Sum(q => q.BufferBytes);
        string state = ProcessIoFlusher.State.ToString();
        if (flagged == threads && ProcessIoFlusher.CoversEveryThread)
        {
            UblkLog.DataPathProtected(_logger, Info.DeviceId, flagged, threads, state, locked, buffers);
        }
        else
        {
            string error = ProcessIoFlusher.Error == Errno.None ? "" : $", {ProcessIoFlusher.Error}";
            UblkLog.DataPathExposed(_logger, Info.DeviceId, flagged, threads, state, error, locked, buffers);
        }
    }

    /// <summary>Ids of the ublk devices that exist now (any owner).</summary>
    public static IReadOnlyList<int> ListDeviceIds() => UblkControl.ListDeviceIds();

    /// <summary>
    /// GET_DEV_INFO and GET_PARAMS for every device that exists now (any owner). When the control device cannot be
    /// used (not root, or io_uring disabled) only the ids and the sysfs size are known, and
    /// <paramref name="controlProblem"/> says why. Throws when the driver is not loaded.
    /// </summary>
    public static IReadOnlyList<UblkDeviceStatus> QueryExisting(out string? controlProblem)
    {
        UblkControl? control = null;
        controlProblem = null;
        try
        {
            control = UblkControl.Open();
        }
        catch (Exception e) when (e is UblkDeviceException or ErrnoException && File.Exists(UblkConstants.ControlDevicePath))
        {
            // Present but not usable. The ids and sizes in sysfs are still worth showing.
            controlProblem = e.Message;
        }

        using (control)
        {
            var result = new List<UblkDeviceStatus>();
            foreach (int id in ListDeviceIds())
            {
                if (control is null)
                {
                    result.Add(new UblkDeviceStatus(id, null, null, null, null, SysfsSizeBytes(id)));
                    continue;
                }

                if (control.TryGetStatus(id) is not { } status)
                {
                    continue; // deleted since we listed the ids
                }

                long? size;
                try
                {
                    size = (long)(control.GetParams(id).Basic.DevSectors << UblkConstants.SectorShift);
                }
                catch (ErrnoException)
                {
                    size = SysfsSizeBytes(id);
                }

                result.Add(status with { SizeBytes = size });
            }

            return result;
        }
    }

    /// <summary>Creates, starts and serves a new device. On failure nothing is left behind.</summary>
    /// <param name="options">Shape of the device.</param>
    /// <param name="backend">Where the bytes live; not disposed by the device.</param>
    /// <param name="logger">Logging; none if null.</param>
    /// <param name="observer">Told about every finished request (metrics); optional.</param>
    /// <param name="beforeStart">Called with the new device's id after ADD_DEV and before START_DEV (the daemon records the
    /// device there, so that a crash once the disk exists never leaves an unrecorded device); if it throws, the device
    /// is removed.</param>
    public static UblkDevice Create(
        UblkDeviceOptions options, IBlockBackend backend, ILogger? logger = null, IUblkRequestObserver? observer = null, Action<int>? beforeStart = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(backend);
        logger ??= NullLogger.Instance;
        options.Validate(backend.SizeBytes, backend.LogicalBlockSize);
        int logicalBlockSize = options.EffectiveLogicalBlockSize(backend.LogicalBlockSize);

        UblkControl control = UblkControl.Open();
        int deviceId = -1;
        UblkDevice? device = null;
        try
        {
            var request = new UblksrvCtrlDevInfo
            {
                NrHwQueues = (ushort)options.Queues,
                QueueDepth = (ushort)options.QueueDepth,
                MaxIoBufBytes = (uint)options.MaxIoBytes,
                DevId = options.DeviceId < 0 ? UblkConstants.AutoDeviceId : (uint)options.DeviceId,
                Flags = (ulong)(options.UserRecovery ? UblkFeatures.UserRecovery | UblkFeatures.UserRecoveryReissue : UblkFeatures.None),
                UblksrvFlags = options.ServerTag,
            };
            UblksrvCtrlDevInfo reply = AddDevice(control, request, options.DeviceId);
            deviceId = (int)reply.DevId;
            if (reply.NrHwQueues < options.Queues)
            {
                UblkLog.QueuesClamped(logger, deviceId, options.Queues, reply.NrHwQueues);
            }

            var info = new UblkDeviceInfo(deviceId, reply.NrHwQueues, reply.QueueDepth, (int)reply.MaxIoBufBytes, backend.SizeBytes,
                logicalBlockSize, options.PhysicalBlockSize, (UblkFeatures)reply.Flags);
            UblkParams parameters = UblkParamsBuilder.Build(info.SizeBytes, logicalBlockSize, options.PhysicalBlockSize, info.MaxIoBytes,
                options.EffectiveOptimalIoBytes(info.MaxIoBytes), options.Discard);
            control.SetParams(deviceId, parameters);

            beforeStart?.Invoke(deviceId);
            device = new UblkDevice(control, backend, info, logger, observer);
            device.StartQueues();
            // Every queue has fetched every tag and is (about to be) waiting in io_uring_enter: partition-scan reads will be served.
            control.StartDevice(deviceId, Environment.ProcessId);
            UblkLog.DeviceReady(logger, deviceId, info.BlockDevicePath, info.SizeBytes, info.Queues, info.QueueDepth, info.MaxIoBytes, info.Features.ToString());
            device.LogDataPathProtection();
            return device;
        }
        catch
        {
            if (deviceId >= 0)
            {
                RemoveFailedDevice(control, device, deviceId, logger);
            }

            control.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Re-attaches to device <paramref name="deviceId"/> left by a crashed daemon (created with user recovery).
    /// The backend must hold the same data and size. On failure the device is left as it was (quiesced).
    /// </summary>
    /// <param name="deviceId">The device to re-attach.</param>
    /// <param name="backend">Where the bytes live; not disposed by the device.</param>
    /// <param name="logger">Logging; none if null.</param>
    /// <param name="observer">Told about every finished request (metrics); optional.</param>
    /// <param name="expectedServerTag">When given, the device's owner tag (<see cref="UblkDeviceOptions.ServerTag"/>) must
    /// equal it, checked right before the device is touched: a device of another owner is never recovered.</param>
    public static UblkDevice Recover(
        int deviceId, IBlockBackend backend, ILogger? logger = null, IUblkRequestObserver? observer = null, ulong? expectedServerTag = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        logger ??= NullLogger.Instance;
        UblkControl control = UblkControl.Open();
        UblkDevice? device = null;
        try
        {
            UblksrvCtrlDevInfo current;
            try
            {
                current = control.GetDeviceInfo(deviceId);
            }
            catch (ErrnoException e) when (e.Errno == Errno.ENODEV)
            {
                throw new UblkDeviceException($"there is no ublk device {deviceId} to recover", e);
            }

            if (expectedServerTag is { } tag && current.UblksrvFlags != tag)
            {
                throw new UblkDeviceException(
                    $"ublk device {deviceId} belongs to another server (owner tag 0x{current.UblksrvFlags:x16}, expected 0x{tag:x16}); it was not touched");
            }

            var features = (UblkFeatures)current.Flags;
            if ((features & UblkFeatures.UserRecovery) == 0)
            {
                throw new UblkDeviceException($"ublk device {deviceId} was created without user recovery and cannot be recovered; delete it and create a new one");
            }

            UblkParams parameters = control.GetParams(deviceId);
            long sizeBytes = (long)(parameters.Basic.DevSectors << UblkConstants.SectorShift);
            int logicalBlockSize = 1 << parameters.Basic.LogicalBsShift;
            int physicalBlockSize = 1 << parameters.Basic.PhysicalBsShift;
            if (backend.SizeBytes != sizeBytes)
            {
                throw new UblkDeviceException($"cannot recover ublk device {deviceId}: it has {sizeBytes} bytes but the backend has {backend.SizeBytes}");
            }

            if (logicalBlockSize % backend.LogicalBlockSize != 0)
            {
                throw new UblkDeviceException($"cannot recover ublk device {deviceId}: its block size {logicalBlockSize} is not a multiple of the backend's {backend.LogicalBlockSize}");
            }

            WaitForOldServer(control, deviceId, current);
            try
            {
                control.StartUserRecovery(deviceId, RecoveryTimeout, () => UblkLog.RecoveryBusy(logger, deviceId));
            }
            catch (ErrnoException e) when (e.Errno is Errno.EBUSY or Errno.EINVAL)
            {
                throw new UblkDeviceException(
                    $"cannot recover ublk device {deviceId} (state {(UblkDevState)current.State}, pid {current.UblksrvPid}): " +
                    (e.Errno == Errno.EBUSY ? "its old server still holds it, or it is not quiesced yet" : "it never became ready, or it is being stopped"), e);
            }

            var info = new UblkDeviceInfo(deviceId, current.NrHwQueues, current.QueueDepth, (int)current.MaxIoBufBytes, sizeBytes,
                logicalBlockSize, physicalBlockSize, features);
            device = new UblkDevice(control, backend, info, logger, observer);
            device.StartQueues();
            control.EndUserRecovery(deviceId, Environment.ProcessId);
            UblkLog.DeviceRecovered(logger, deviceId, info.BlockDevicePath, Environment.ProcessId);
            device.LogDataPathProtection();
            return device;
        }
        catch
        {
            // Leave the device quiesced for another attempt: close our rings (which cancels our FETCHes), not STOP_DEV.
            device?.AbandonQueues();
            control.Dispose();
            throw;
        }
    }

    /// <summary>Removes a device this process does not serve (e.g. left by a crash): STOP_DEV, then delete. False if absent.</summary>
    public static bool DeleteExisting(int deviceId, ILogger? logger = null)
    {
        logger ??= NullLogger.Instance;
        using UblkControl control = UblkControl.Open();
        try
        {
            control.StopDevice(deviceId);
        }
        catch (ErrnoException e) when (e.Errno == Errno.ENODEV)
        {
            return false;
        }

        DeleteById(control, deviceId, logger);
        return true;
    }

    /// <summary>The kernel's view of the device state (GET_DEV_INFO).</summary>
    public UblkDevState QueryState() => (UblkDevState)_control.GetDeviceInfo(Info.DeviceId).State;

    /// <summary>
    /// STOP_DEV: the disk disappears once in-flight requests finish (the queues keep serving until then); then the
    /// queue threads exit and /dev/ublkcN is closed. Idempotent.
    /// </summary>
    public void Stop()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        bool stopped = false;
        try
        {
            _control.StopDevice(Info.DeviceId);
            stopped = true;
        }
        catch (Exception e)
        {
            UblkLog.CleanupFailed(_logger, e, Info.DeviceId, "STOP_DEV");
        }

        JoinQueues(abandon: !stopped);
        _charDevice?.Dispose();
        UblkLog.DeviceStopped(_logger, Info.DeviceId, Stats);
    }

    /// <summary>Stops the device if needed, then deletes it (/dev/ublkcN and the id go away). Idempotent.</summary>
    public void Delete()
    {
        if (_deleted)
        {
            return;
        }

        Stop();
        DeleteById(_control, Info.DeviceId, _logger);
        _deleted = true;
        UblkLog.DeviceDeleted(_logger, Info.DeviceId);
    }

    /// <summary>Stops and deletes the device. The backend is not disposed (the caller owns it).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            Delete();
        }
        catch (Exception e)
        {
            UblkLog.CleanupFailed(_logger, e, Info.DeviceId, "delete");
        }

        _control.Dispose();
    }

    private static UblksrvCtrlDevInfo AddDevice(UblkControl control, UblksrvCtrlDevInfo request, int requestedId)
    {
        try
        {
            control.AddDevice(ref request);
            return request;
        }
        catch (ErrnoException e) when (e.Errno == Errno.EEXIST)
        {
            throw new UblkDeviceException($"ublk device id {requestedId} is already taken (EEXIST): choose another id, or delete /dev/ublkc{requestedId} first", e);
        }
        catch (ErrnoException e) when (e.Errno == Errno.EPERM)
        {
            throw new UblkDeviceException("adding a ublk device needs CAP_SYS_ADMIN: run the daemon as root", e);
        }
    }

    /// <summary>Undo a half-made device: STOP_DEV (which aborts the FETCHes of a never-started device too), close, DEL_DEV.</summary>
    private static void RemoveFailedDevice(UblkControl control, UblkDevice? device, int deviceId, ILogger logger)
    {
        try
        {
            if (device is not null)
            {
                device.Stop();
            }

            control.DeleteDevice(deviceId);
        }
        catch (Exception e)
        {
            UblkLog.CleanupFailed(logger, e, deviceId, "remove the device after a failed create");
        }
    }

    /// <summary>DEL_DEV_ASYNC where the kernel has it (6.11+), then wait a little for the id to go; else DEL_DEV.</summary>
    private static void DeleteById(UblkControl control, int deviceId, ILogger logger)
    {
        if (!control.TryDeleteDeviceAsync(deviceId))
        {
            control.DeleteDevice(deviceId);
            return;
        }

        var clock = Stopwatch.StartNew();
        string sysfsPath = Path.Combine(UblkConstants.CharDeviceClassPath, $"ublkc{deviceId}");
        while (Path.Exists(sysfsPath) || Path.Exists(UblkConstants.CharDevicePath(deviceId)))
        {
            if (clock.Elapsed > DeleteWait)
            {
                UblkLog.DeleteStillReferenced(logger, deviceId, (int)DeleteWait.TotalSeconds);
                return;
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>If the device is still LIVE under a running server, give that server a moment to finish dying.</summary>
    private static void WaitForOldServer(UblkControl control, int deviceId, UblksrvCtrlDevInfo current)
    {
        var clock = Stopwatch.StartNew();
        while ((UblkDevState)current.State == UblkDevState.Live && IsProcessRunning(current.UblksrvPid))
        {
            if (current.UblksrvPid == Environment.ProcessId || clock.Elapsed > TimeSpan.FromSeconds(3))
            {
                throw new UblkDeviceException($"ublk device {deviceId} is live and served by pid {current.UblksrvPid}; stop that server before recovering");
            }

            Thread.Sleep(100);
            current = control.GetDeviceInfo(deviceId);
        }
    }

    /// <summary>The size the block layer reports (512-byte sectors), readable without root; null without a disk.</summary>
    private static long? SysfsSizeBytes(int deviceId)
    {
        try
        {
            return long.TryParse(File.ReadAllText($"/sys/block/ublkb{deviceId}/size").Trim(), out long sectors) ? sectors << UblkConstants.SectorShift : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>True if <paramref name="pid"/> exists and is not a zombie.</summary>
    public static bool IsProcessRunning(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }

        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int afterName = stat.LastIndexOf(')');
            char state = afterName >= 0 && afterName + 2 < stat.Length ? stat[afterName + 2] : '?';
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static FileDescriptorHandle OpenCharDevice(int deviceId)
    {
        // The node appears asynchronously (devtmpfs/udev), and udev may hold it open briefly (single opener).
        string path = UblkConstants.CharDevicePath(deviceId);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Errno errno = FileDescriptorHandle.TryOpen(path, LibC.O_RDWR, out FileDescriptorHandle? fd);
            if (errno == Errno.None)
            {
                return fd!;
            }

            if (errno is not (Errno.ENOENT or Errno.EBUSY) || clock.Elapsed > CharDeviceOpenTimeout)
            {
                throw new ErrnoException(errno, $"open({path})");
            }

            Thread.Sleep(50);
        }
    }

    private void StartQueues()
    {
        _charDevice = OpenCharDevice(Info.DeviceId);
        for (int q = 0; q < Info.Queues; q++)
        {
            var queue = new UblkQueue(new UblkQueueConfig(Info.DeviceId, q, Info.QueueDepth, Info.MaxIoBytes, Info.SizeBytes,
                Info.IoctlEncoding, _charDevice, _backend, Stats, _logger, _control.TryGetQueueAffinity(Info.DeviceId, q), _observer));
            _queues.Add(queue);
            queue.Start();
        }
    }

    /// <summary>Waits for the queue threads; with <paramref name="abandon"/> (no STOP_DEV) tells them to exit first.</summary>
    private void JoinQueues(bool abandon)
    {
        if (abandon)
        {
            _queues.ForEach(q => q.RequestExit());
        }

        foreach (UblkQueue queue in _queues)
        {
            if (!queue.Join(QueueExitTimeout))
            {
                UblkLog.QueueExitSlow(_logger, Info.DeviceId, queue.QueueId, (int)QueueExitTimeout.TotalSeconds);
                queue.RequestExit();
                queue.Join(Timeout.InfiniteTimeSpan);
            }

            queue.Dispose();
        }
    }

    private void AbandonQueues()
    {
        _stopped = true;
        JoinQueues(abandon: true);
        _charDevice?.Dispose();
    }
}
