using System.Diagnostics;
using Ublk.Server.Interop;
using Ublk.Server.IoUring;
using Tmds.Linux;

namespace Ublk.Server.Device;

/// <summary>
/// The control plane: /dev/ublk-control plus a small SQE128 io_uring. Each command is one URING_CMD submitted and
/// waited for synchronously, serialized by a lock (docs/ublk-protocol.md §1).
/// </summary>
/// <remarks>
/// START_DEV, END_USER_RECOVERY and DEL_DEV can block for a long time (they wait for the queues, for partition
/// scanning, or for openers). Call them from a thread that never serves I/O: never from a queue thread.
/// </remarks>
public sealed unsafe class UblkControl : IDisposable
{
    private const uint RingEntries = 4;

    private readonly FileDescriptorHandle _controlFd;
    private readonly IoUringRing _ring;
    private readonly Lock _gate = new();
    private ulong _nextUserData;

    private UblkControl(FileDescriptorHandle controlFd, IoUringRing ring)
    {
        _controlFd = controlFd;
        _ring = ring;
    }

    /// <summary>
    /// Whether control commands use ioctl encoding (6.5+, told by GET_FEATURES succeeding) or the legacy
    /// command numbers (6.1).
    /// </summary>
    public bool UseIoctlEncoding { get; private set; }

    /// <summary>What GET_FEATURES reported, or null on kernels before 6.5 that lack it.</summary>
    public UblkFeatures? KernelFeatures { get; private set; }

    /// <summary>Opens /dev/ublk-control and probes the kernel's features. Throws a clear <see cref="UblkDeviceException"/> if ublk is unusable.</summary>
    public static UblkControl Open(string controlPath = UblkConstants.ControlDevicePath)
    {
        Errno errno = FileDescriptorHandle.TryOpen(controlPath, LibC.O_RDWR, out FileDescriptorHandle? fd);
        switch (errno)
        {
            case Errno.None:
                break;
            case Errno.ENOENT:
            case Errno.ENODEV:
            case Errno.ENXIO: // node present, driver gone
                throw new UblkDeviceException($"ublk_drv not loaded: {controlPath} is missing (run: modprobe ublk_drv)", new ErrnoException(errno, $"open({controlPath})"));
            case Errno.EACCES:
            case Errno.EPERM:
                throw new UblkDeviceException($"permission denied opening {controlPath}: the ublk server must run as root (CAP_SYS_ADMIN)", new ErrnoException(errno, $"open({controlPath})"));
            default:
                throw new ErrnoException(errno, $"open({controlPath})");
        }

        IoUringRing ring;
        try
        {
            ring = IoUringRing.Create(RingEntries, IoUringSetupFlags.Sqe128);
        }
        catch (ErrnoException e) when (e.Errno is Errno.EPERM or Errno.ENOSYS)
        {
            fd!.Dispose();
            throw new UblkDeviceException(e.Errno == Errno.ENOSYS
                ? "this kernel has no io_uring (CONFIG_IO_URING); ublk needs it"
                : "io_uring is disabled for this process (sysctl kernel.io_uring_disabled); ublk needs it", e);
        }
        catch
        {
            fd!.Dispose();
            throw;
        }

        var control = new UblkControl(fd!, ring);
        control.ProbeFeatures();
        return control;
    }

    /// <summary>Device ids that exist now (from /sys/class/ublk-char, else /dev/ublkc*), sorted.</summary>
    public static IReadOnlyList<int> ListDeviceIds()
    {
        IEnumerable<string> names = Directory.Exists(UblkConstants.CharDeviceClassPath)
            ? Directory.EnumerateFileSystemEntries(UblkConstants.CharDeviceClassPath, "ublkc*")
            : Directory.Exists("/dev") ? Directory.EnumerateFileSystemEntries("/dev", "ublkc*") : [];
        var ids = new List<int>();
        foreach (string path in names)
        {
            if (int.TryParse(Path.GetFileName(path).AsSpan("ublkc".Length), out int id))
            {
                ids.Add(id);
            }
        }

        ids.Sort();
        return ids;
    }

    /// <summary>GET_FEATURES: succeeds on 6.5+ (and implies ioctl encoding); an error means a legacy kernel.</summary>
    public void ProbeFeatures()
    {
        ulong features = 0;
        int r = Execute(UblkCtrlCmd.GetFeatures, UblkConstants.AutoDeviceId, &features, UblkConstants.FeaturesLength, ioctlEncoding: true);
        UseIoctlEncoding = r == 0;
        KernelFeatures = r == 0 ? (UblkFeatures)features : null;
    }

    /// <summary>
    /// ADD_DEV. <paramref name="info"/> is in/out: the kernel returns the id, the negotiated flags, the clamped queue
    /// count and the rounded buffer size. Without GET_FEATURES the ioctl encoding is tried first, then legacy (§1.5).
    /// Afterwards the encoding follows the reply's <see cref="UblkFeatures.CmdIoctlEncode"/> bit.
    /// </summary>
    internal void AddDevice(ref UblksrvCtrlDevInfo info)
    {
        UblksrvCtrlDevInfo request = info;
        UblksrvCtrlDevInfo reply = request;
        int r = Execute(UblkCtrlCmd.AddDev, request.DevId, &reply, (ushort)sizeof(UblksrvCtrlDevInfo), ioctlEncoding: true);
        if (r < 0 && KernelFeatures is null && r != -(int)Errno.EEXIST && r != -(int)Errno.EBUSY && r != -(int)Errno.EPERM)
        {
            reply = request;
            r = Execute(UblkCtrlCmd.AddDev, request.DevId, &reply, (ushort)sizeof(UblksrvCtrlDevInfo), ioctlEncoding: false);
        }

        Check(r, UblkCtrlCmd.AddDev, request.DevId);
        UseIoctlEncoding = ((UblkFeatures)reply.Flags & UblkFeatures.CmdIoctlEncode) != 0;
        info = reply;
    }

    internal void SetParams(int devId, in UblkParams parameters)
    {
        UblkParams copy = parameters;
        Check(Execute(UblkCtrlCmd.SetParams, (uint)devId, &copy, (ushort)copy.Len), UblkCtrlCmd.SetParams, (uint)devId);
    }

    /// <summary>GET_PARAMS: what the kernel holds (DEVT filled on 6.2+; check <see cref="UblkParams.Types"/>).</summary>
    internal UblkParams GetParams(int devId)
    {
        var parameters = new UblkParams { Len = (uint)sizeof(UblkParams) };
        Check(Execute(UblkCtrlCmd.GetParams, (uint)devId, &parameters, (ushort)sizeof(UblkParams)), UblkCtrlCmd.GetParams, (uint)devId);
        return parameters;
    }

    internal UblksrvCtrlDevInfo GetDeviceInfo(int devId)
    {
        UblksrvCtrlDevInfo info = default;
        Check(Execute(UblkCtrlCmd.GetDevInfo, (uint)devId, &info, (ushort)sizeof(UblksrvCtrlDevInfo)), UblkCtrlCmd.GetDevInfo, (uint)devId);
        return info;
    }

    /// <summary>GET_DEV_INFO as a status (state, queues, server pid, owner tag; no size); null when the device does not exist.</summary>
    public UblkDeviceStatus? TryGetStatus(int devId)
    {
        try
        {
            var info = GetDeviceInfo(devId);
            return new UblkDeviceStatus(devId, (UblkDevState)info.State, info.NrHwQueues, info.QueueDepth, info.UblksrvPid, SizeBytes: null, info.UblksrvFlags);
        }
        catch (ErrnoException e) when (e.Errno == Errno.ENODEV)
        {
            return null;
        }
    }

    /// <summary>
    /// GET_QUEUE_AFFINITY: the CPUs whose submissions land on <paramref name="queueId"/> (a cpumask of 1024 bits),
    /// or null if the kernel refused.
    /// </summary>
    public ulong[]? TryGetQueueAffinity(int devId, int queueId)
    {
        // len must be a multiple of 8 and cover nr_cpu_ids; the kernel zero-fills what its cpumask does not use.
        var mask = new ulong[16];
        int r;
        fixed (ulong* buffer = mask)
        {
            r = Execute(UblkCtrlCmd.GetQueueAffinity, (uint)devId, buffer, (ushort)(mask.Length * sizeof(ulong)), (ulong)queueId);
        }

        return r == 0 ? mask : null;
    }

    /// <summary>START_DEV: blocks until every queue fetched every tag, then adds the disk (and scans partitions).</summary>
    public void StartDevice(int devId, int serverPid) =>
        Check(Execute(UblkCtrlCmd.StartDev, (uint)devId, null, 0, (ulong)serverPid), UblkCtrlCmd.StartDev, (uint)devId);

    /// <summary>STOP_DEV: removes the disk (waiting for in-flight requests), then aborts every pending FETCH. Idempotent.</summary>
    public void StopDevice(int devId) =>
        Check(Execute(UblkCtrlCmd.StopDev, (uint)devId, null, 0), UblkCtrlCmd.StopDev, (uint)devId);

    /// <summary>DEL_DEV: removes the device and waits until its last reference is gone.</summary>
    public void DeleteDevice(int devId) =>
        Check(Execute(UblkCtrlCmd.DelDev, (uint)devId, null, 0), UblkCtrlCmd.DelDev, (uint)devId);

    /// <summary>DEL_DEV_ASYNC (6.11+): marks the device for deletion and returns at once. False if the kernel lacks it.</summary>
    public bool TryDeleteDeviceAsync(int devId)
    {
        if (!UseIoctlEncoding)
        {
            return false;
        }

        int r = Execute(UblkCtrlCmd.DelDevAsync, (uint)devId, null, 0);
        if (r is -(int)Errno.EOPNOTSUPP or -(int)Errno.ENOTSUPP)
        {
            return false;
        }

        Check(r, UblkCtrlCmd.DelDevAsync, (uint)devId);
        return true;
    }

    /// <summary>
    /// START_USER_RECOVERY, retried every 100 ms while the kernel answers EBUSY (the dead server's files are not
    /// released yet, or the device is not quiesced yet), up to <paramref name="timeout"/>.
    /// </summary>
    public void StartUserRecovery(int devId, TimeSpan timeout, Action? onBusy = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            int r = Execute(UblkCtrlCmd.StartUserRecovery, (uint)devId, null, 0);
            if (r != -(int)Errno.EBUSY || clock.Elapsed >= timeout)
            {
                Check(r, UblkCtrlCmd.StartUserRecovery, (uint)devId);
                return;
            }

            onBusy?.Invoke();
            Thread.Sleep(100);
        }
    }

    /// <summary>END_USER_RECOVERY: blocks until every queue fetched every tag, then unquiesces the disk.</summary>
    public void EndUserRecovery(int devId, int serverPid) =>
        Check(Execute(UblkCtrlCmd.EndUserRecovery, (uint)devId, null, 0, (ulong)serverPid), UblkCtrlCmd.EndUserRecovery, (uint)devId);

    public void Dispose()
    {
        _ring.Dispose();
        _controlFd.Dispose();
    }

    private static void Check(int result, UblkCtrlCmd command, uint devId)
    {
        if (result < 0)
        {
            ErrnoException.ThrowNegative(result, $"UBLK_CMD_{CommandName(command)}(dev {(int)devId})");
        }
    }

    private static string CommandName(UblkCtrlCmd command) => command switch
    {
        UblkCtrlCmd.GetQueueAffinity => "GET_QUEUE_AFFINITY",
        UblkCtrlCmd.GetDevInfo => "GET_DEV_INFO",
        UblkCtrlCmd.AddDev => "ADD_DEV",
        UblkCtrlCmd.DelDev => "DEL_DEV",
        UblkCtrlCmd.StartDev => "START_DEV",
        UblkCtrlCmd.StopDev => "STOP_DEV",
        UblkCtrlCmd.SetParams => "SET_PARAMS",
        UblkCtrlCmd.GetParams => "GET_PARAMS",
        UblkCtrlCmd.StartUserRecovery => "START_USER_RECOVERY",
        UblkCtrlCmd.EndUserRecovery => "END_USER_RECOVERY",
        UblkCtrlCmd.GetDevInfo2 => "GET_DEV_INFO2",
        UblkCtrlCmd.GetFeatures => "GET_FEATURES",
        UblkCtrlCmd.DelDevAsync => "DEL_DEV_ASYNC",
        _ => command.ToString(),
    };

    /// <summary>Submits one control command and waits for its CQE; returns cqe.res (≥ 0 or -errno).</summary>
    private int Execute(UblkCtrlCmd command, uint devId, void* buffer, ushort length, ulong data0 = 0, bool? ioctlEncoding = null)
    {
        var header = new UblksrvCtrlCmd
        {
            DevId = devId,
            QueueId = UblkConstants.NoQueue,
            Len = length,
            Addr = (ulong)buffer,
            Data0 = data0,
        };
        uint cmdOp = UblkOpcodes.Control(command, ioctlEncoding ?? UseIoctlEncoding);

        lock (_gate)
        {
            IoUringSqe* sqe = _ring.GetSqe();
            Debug.Assert(sqe != null, "one command at a time never fills the control ring");
            ulong userData = ++_nextUserData;
            SqePrep.UblkControl(sqe, _controlFd, cmdOp, header, userData);
            // The buffer lives on the caller's stack; we block here until the kernel is done with it.
            _ring.SubmitAndWait(1);
            if (!_ring.TryGetCompletion(out io_uring_cqe cqe) || cqe.user_data != userData)
            {
                throw new InvalidOperationException($"ublk control ring: unexpected completion (user_data {cqe.user_data}, expected {userData})");
            }

            return cqe.res;
        }
    }
}
