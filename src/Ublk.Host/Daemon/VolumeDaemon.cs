using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using S3Block.Cache.Chunks;
using S3Block.Cache.Journal;
using S3Block.ObjectStore;
using Ublk.Server.Device;
using Ublk.Server.Interop;
using S3Block.Ublk.Systemd;
using S3Block.Volume;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// Serves one volume on a ublk device for the lifetime of the host.
/// </summary>
/// <remarks>
/// <para><b>Start:</b> open the volume (take the lease, replay the journal, fence older writers), then re-attach to the
/// device a crashed predecessor left (user recovery; only a device carrying this volume's owner tag, see
/// <see cref="DeviceAttachPlanner"/>) or create one, recorded before START_DEV, and tell systemd READY.</para>
/// <para><b>Stop (SIGTERM):</b> while the device still serves I/O, upload everything to S3 (systemd's stop timeout is
/// extended while it progresses); then, unless a filesystem is still mounted on the device, stop it (the queues
/// drain), seal the journal and release the lease, and delete the device. While the kernel says the device is in use
/// (<see cref="BlockDeviceUsers"/>: a mounted filesystem or partition, swap, device-mapper or md on top, an exclusive
/// open) the device keeps being served until the process exits and is then left quiesced for the next daemon to
/// recover, because stopping it would fail its users' I/O.</para>
/// </remarks>
internal sealed partial class VolumeDaemon(
    DaemonOptions daemon,
    DeviceSettings deviceSettings,
    VolumeOptions volumeOptions,
    JournalOptions journalOptions,
    ChunkCacheOptions cacheOptions,
    DaemonStoreFactory storeFactory,
    MetricsBridge metrics,
    SystemdNotifications systemd,
    ILogger<VolumeDaemon> logger) : IHostedService, IDisposable
{
    private IObjectStore? _store;
    private ChunkCache? _cache;
    private S3Volume? _volume;
    private UblkDevice? _device;
    private PosixSignalRegistration? _flushSignal;
    private DaemonInstanceLock? _instanceLock;
    private volatile System.Diagnostics.Process? _guard;
    private ulong _ownerTag;
    private Timer? _guardWatch;
    private const long InitialGuardRestartBackoff = 5_000;
    private const long GuardLivedLongEnough = 600_000;
    private long _guardRestartBackoff = InitialGuardRestartBackoff;
    private long _nextGuardRestart;
    private long _lastGuardRestart;

    /// <summary>Set when SIGTERM found the device in use and left it attached (the process exits with
    /// <c>ExitCodes.DeviceLeftAttached</c>): the stop did not finish, and the device fails its I/O after
    /// <see cref="DaemonOptions.RecoveryDeadline"/> unless a daemon re-attaches it.</summary>
    public bool LeftAttached { get; private set; }

    private static readonly TimeSpan GuardWatchInterval = TimeSpan.FromSeconds(10);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // First, before reading anything else of the state folder (whose disk may be the one that failed): a failed
        // fdatasync earlier in this boot refuses the start with what to do.
        JournalSyncFailure.CheckAtOpen(daemon.JournalDirectory, journalOptions.AcceptSyncFailure);
        // Held until the process exits (also when the device is left attached for recovery); the kernel drops it. A
        // daemon coming back to a volume served here before takes it first thing, before it reads the device record (which
        // the deadline guard removes when it stops the device, holding this lock if it is free).
        if (Directory.Exists(Path.GetDirectoryName(daemon.InstanceLockPath)))
        {
            _instanceLock = DaemonInstanceLock.Acquire(daemon.InstanceLockPath, daemon.Volume);
        }

        var record = DeviceRecord.ReadFromBoot(daemon.DeviceRecordPath, BootId.Current);
        if (record is null && DeviceRecord.Read(daemon.DeviceRecordPath) is { BootId: var otherBoot } old)
        {
            // Its devices went with that boot; the ids it names may be anyone's now.
            DaemonLog.RecordIgnored(logger, daemon.Volume, $"it is from another boot ({otherBoot}, {old})");
        }

        if (daemon.RecoverOnly && (JournalBinding.Read(daemon.JournalDirectory) is not { } bound ||
                                   DeviceAttachPlanner.Plan(DeviceOwnerTag.Compute(bound.VolumeId, bound.Binding), null, QueryDevices()).RecoverId is null))
        {
            throw new UblkDeviceException($"volume {daemon.Volume} has no device on this host to recover (use 'run' to create one)");
        }

        _store = storeFactory.Create();
        // Ask the store first: wrong credentials, a missing bucket or volume are reported before anything local exists.
        await VolumeCatalog.ReadDescriptorAsync(_store, daemon.Volume, cancellationToken);
        _instanceLock ??= DaemonInstanceLock.Acquire(daemon.InstanceLockPath, daemon.Volume);
        var node = NodeIdentity.LoadOrCreate(daemon.StateDirectory);
        _cache = ChunkCache.Open(cacheOptions);
        _volume = await S3Volume.OpenAsync(new S3Volume.OpenContext
        {
            Store = _store,
            VolumeName = daemon.Volume,
            JournalDirectory = daemon.JournalDirectory,
            JournalOptions = journalOptions,
            Cache = new ChunkCacheAdapter(_cache),
            Options = volumeOptions,
            Node = node,
            ForceTakeover = daemon.ForceTakeover,
            Logger = logger,
        }, cancellationToken);

        var volume = _volume;
        // Creating or recovering blocks until the kernel has the queues; never on a thread-pool thread it could starve.
        (_device, var recover) = await RunOnDedicatedThreadAsync(() => AttachDevice(record, volume));
        // A guard that died (killed by hand, OOM) is replaced, so the device never serves without one.
        var deviceId = _device.Info.DeviceId;
        _guardWatch = new Timer(_ => WatchGuard(deviceId), null, GuardWatchInterval, GuardWatchInterval);
        metrics.Attach(volume, _cache, _device);
        await DetachMountCopiesAsync();

        var ready = $"serving volume {daemon.Volume} on {_device.Info.BlockDevicePath} ({(recover ? "recovered" : "created")}, " +
                    $"{volume.SizeBytes} bytes, epoch {volume.Epoch})";
        Console.Out.WriteLine($"ready: {ready}");
        await Console.Out.FlushAsync(cancellationToken);
        // READY=1 follows from SystemdLifetime once this (the last hosted service) has started.
        systemd.Status(ready);
        // `s3block flush` asks with SIGUSR1: upload everything now (the CLI follows progress through /metrics).
        _flushSignal = PosixSignalRegistration.Create((PosixSignal)Tmds.Linux.LibC.SIGUSR1, context =>
        {
            context.Cancel = true;
            _ = Task.Run(() => volume.DrainAsync(null, CancellationToken.None));
        });
        DaemonLog.Serving(logger, daemon.Volume, _device.Info.BlockDevicePath, recover);
    }

    public void Dispose() => _guardWatch?.Dispose();

    /// <summary>Every <see cref="GuardWatchInterval"/>: replaces a guard that died, backing off (up to 10 minutes) while
    /// new ones keep dying. Never throws: a timer callback's exception would end the daemon that serves the device.</summary>
    private void WatchGuard(int deviceId)
    {
        try
        {
            if (_guard is { HasExited: false } && Environment.TickCount64 - _lastGuardRestart > GuardLivedLongEnough)
            {
                _guardRestartBackoff = InitialGuardRestartBackoff; // it lived long enough: earlier deaths are forgiven
            }

            if (Environment.TickCount64 < _nextGuardRestart)
            {
                return;
            }

            var before = _guard;
            _guard = DeviceDeadlineGuard.Restart(before, daemon, deviceId, _ownerTag, logger);
            if (!ReferenceEquals(before, _guard))
            {
                _guardRestartBackoff = Math.Min(_guardRestartBackoff * 2, 600_000);
                _lastGuardRestart = Environment.TickCount64;
                _nextGuardRestart = _lastGuardRestart + _guardRestartBackoff;
            }
        }
        catch (Exception e)
        {
            DaemonLog.GuardWatchFailed(logger, e);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _flushSignal?.Dispose();
        if (_guardWatch is not null)
        {
            await _guardWatch.DisposeAsync();
        }

        if (_volume is null || _device is null)
        {
            return;
        }

        // 1. Upload everything while the device still serves the filesystem's I/O.
        var drain = _volume.DrainAsync(null, cancellationToken);
        await systemd.ExtendTimeoutWhileAsync(drain, TimeSpan.FromSeconds(10),
            () => $"stopping: uploading {_volume.GetStatistics().DirtyBytes / (1 << 20)} MiB to S3", progress: null, cancellationToken);

        // 2. Stop the device unless the kernel says someone uses it: a mount of it or of a partition (here or in the
        // host's namespace), swap, a holder (device-mapper, md), or an exclusive open (which a mount in a namespace
        // this process cannot see also makes).
        await DetachMountCopiesAsync();
        var users = BlockDeviceUsers.Find(_device.Info.BlockDevicePath);
        if (users.Count > 0 && !daemon.ForceStop)
        {
            // Keep serving until the process exits: closing the journal now would fail the users' next writes.
            // When the process is gone the kernel quiesces the device (user recovery) and queues I/O for the next daemon,
            // which replays the journal (synced or in the page cache) and keeps the lease as the same node.
            LeftAttached = true;
            DaemonLog.LeftAttached(logger, _device.Info.BlockDevicePath, string.Join("; ", users), UntilWhen());
            return;
        }

        await RunOnDedicatedThreadAsync(() =>
        {
            _device.Stop();
            return true;
        });

        // 3. Seal the journal, release the lease; 4. delete the device.
        await _volume.CloseAsync(drain: true, progress: null, cancellationToken);
        metrics.Detach();
        _device.Delete();
        DeviceDeadlineGuard.AwaitEnd(_guard, daemon, _device.Info.DeviceId, logger);
        DeviceRecord.Delete(daemon.DeviceRecordPath);
        _cache?.Dispose();
        _store?.Dispose();
        _instanceLock?.Dispose();
        DaemonLog.Stopped(logger, daemon.Volume);
        Console.Out.WriteLine($"stopped: volume {daemon.Volume} is in S3 and the device is deleted");
    }

    /// <summary>
    /// Re-attaches this volume's device or creates one (see <see cref="DeviceAttachPlanner"/> and deploy/README.md,
    /// "Device binding"): only a device carrying this volume's owner tag is ever touched.
    /// </summary>
    private (UblkDevice Device, bool Recovered) AttachDevice(DeviceRecord? record, S3Volume volume)
    {
        var journal = JournalBinding.Read(daemon.JournalDirectory);
        var (binding, breakReason) = DeviceAttachPlanner.ChooseBinding(journal, record, daemon.Volume, volume.Descriptor.VolumeId,
            volume.ContinuesThisNodesWrites, BootId.Current);
        if (DeviceAttachPlanner.WhyRecordNotThisBinding(record, binding) is { } notOurs)
        {
            DaemonLog.RecordIgnored(logger, daemon.Volume, notOurs);
        }

        // Before the kernel is touched: a device created from now on carries this binding's tag, and a record says so.
        JournalBinding.Write(daemon.JournalDirectory, binding.VolumeId, binding.Binding);
        DeviceRecord.Write(daemon.DeviceRecordPath, binding);

        var devices = QueryDevices();
        if (breakReason is not null)
        {
            var staleTag = DeviceOwnerTag.Compute(journal!.Value.VolumeId, journal.Value.Binding);
            foreach (var stale in devices.Where(d => d.ServerTag == staleTag))
            {
                if (stale.State == UblkDevState.Dead)
                {
                    // No disk, so nothing can use it: only its id would leak.
                    DaemonLog.DeletingDead(logger, stale.BlockDevicePath, daemon.Volume);
                    UblkDevice.DeleteExisting(stale.DeviceId, logger);
                    continue;
                }

                DaemonLog.StaleDevice(logger, stale.BlockDevicePath, daemon.Volume, breakReason, stale.DeviceId);
            }
        }

        var plan = DeviceAttachPlanner.Plan(binding.Tag, binding.DeviceId, devices);
        if (plan.RecordIgnored is { } why)
        {
            DaemonLog.RecordIgnored(logger, daemon.Volume, why);
        }

        foreach (var id in plan.DeleteFirst)
        {
            DaemonLog.DeletingDead(logger, UblkConstants.BlockDevicePath(id), daemon.Volume);
            UblkDevice.DeleteExisting(id, logger);
        }

        foreach (var id in plan.LeftAlone)
        {
            DaemonLog.LeftAlone(logger, UblkConstants.BlockDevicePath(id), daemon.Volume, id);
        }

        if (plan.RecoverId is { } recoverId)
        {
            DeviceRecord.Write(daemon.DeviceRecordPath, binding with { DeviceId = recoverId });
            // Before the device is touched: the new guard takes over from the predecessor's, so there is no moment
            // between two daemons without one. The recovery lock keeps any guard from stopping the device mid-recovery.
            _guard = DeviceDeadlineGuard.Start(daemon, recoverId, binding.Tag, logger);
            _ownerTag = binding.Tag;
            using var recovering = DeviceGuardLock.Take(DeviceGuardLock.RecoveryPathFor(daemon.VolumeStateFolder, recoverId), TimeSpan.FromSeconds(30))
                                   ?? throw new UblkDeviceException($"{UblkConstants.BlockDevicePath(recoverId)} is being re-attached or stopped by another process");
            // Looked at again under the lock: a guard may have stopped it since the plan (its deadline passed).
            var now = QueryDevices().FirstOrDefault(d => d.DeviceId == recoverId && d.ServerTag == binding.Tag);
            if (now is { State: not (UblkDevState.Dead or null) })
            {
                var recovered = UblkDevice.Recover(recoverId, volume, logger, metrics, binding.Tag);
                // Served again: a guard that starts from now on must not take over the time it had no daemon.
                GuardClock.TryClear(daemon.VolumeStateFolder, recoverId);
                return (recovered, true);
            }

            DaemonLog.StoppedMeanwhile(logger, UblkConstants.BlockDevicePath(recoverId), daemon.Volume);
            if (now is not null)
            {
                UblkDevice.DeleteExisting(recoverId, logger);
            }

            DeviceDeadlineGuard.AwaitEnd(_guard, daemon, recoverId, logger);
            _guard = null;
        }

        if (daemon.RecoverOnly)
        {
            throw new UblkDeviceException($"volume {daemon.Volume} has no device on this host to recover (use 'run' to create one)" +
                                          (breakReason is null ? "" : $": {breakReason}"));
        }

        var created = UblkDevice.Create(deviceSettings.ToDeviceOptions(binding.Tag), volume, logger, metrics,
            beforeStart: id =>
            {
                DeviceRecord.Write(daemon.DeviceRecordPath, binding with { DeviceId = id });
                // A new device: the time an earlier device under this id went without a daemon is not its time.
                GuardClock.TryClear(daemon.VolumeStateFolder, id);
                // Before START_DEV: once started, the device waits for a daemon if this one dies.
                _guard = DeviceDeadlineGuard.Start(daemon, id, binding.Tag, logger);
                _ownerTag = binding.Tag;
            });
        return (created, false);
    }

    /// <summary>For the log: until when a device left attached waits for a daemon before its guard stops it.</summary>
    private string UntilWhen() => daemon.RecoveryDeadline <= TimeSpan.Zero
        ? "it waits for one for ever (Daemon:RecoveryDeadline is 0)"
        : $"unless one re-attaches it by {DateTimeOffset.UtcNow + daemon.RecoveryDeadline:HH:mm:ss}Z (Daemon:RecoveryDeadline " +
          $"{daemon.RecoveryDeadline:c}), it is then stopped and its I/O fails";

    /// <summary>Every ublk device on this host with its state and owner tag (GET_DEV_INFO).</summary>
    private static IReadOnlyList<UblkDeviceStatus> QueryDevices()
    {
        var devices = UblkDevice.QueryExisting(out var problem);
        return problem is null ? devices : throw new UblkDeviceException(problem);
    }

    /// <summary>With <see cref="DaemonOptions.DetachMountCopies"/>: drop this namespace's copies of the device's mounts, so
    /// that this process never holds the last reference to a filesystem on its own device (see
    /// <see cref="MountNamespaceCopies"/>). The device serves I/O meanwhile: a detach may sync the filesystem.</summary>
    private async Task DetachMountCopiesAsync()
    {
        if (!daemon.DetachMountCopies || _device is null)
        {
            return;
        }

        var device = _device.Info.BlockDevicePath;
        var (detached, failed) = await RunOnDedicatedThreadAsync(() => MountNamespaceCopies.DetachAll(device));
        if (detached.Count > 0)
        {
            DaemonLog.DetachedCopies(logger, device, string.Join(", ", detached));
        }

        if (failed.Count > 0)
        {
            // Not fatal: the device serves either way; only this process's exit may hang on such a copy later.
            DaemonLog.DetachFailed(logger, device, string.Join(", ", failed));
        }
    }

    private static Task<T> RunOnDedicatedThreadAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = "ublk-control" };
        thread.Start();
        return done.Task;
    }

    private static partial class DaemonLog
    {
        [LoggerMessage(4001, LogLevel.Information, "Serving volume {Volume} on {Device} (recovered: {Recovered})", EventName = "Serving")]
        public static partial void Serving(ILogger logger, string volume, string device, bool recovered);

        [LoggerMessage(4002, LogLevel.Warning,
            "{Device} is still in use: {Users}. Everything is in S3, but the device is left attached for the next daemon to recover (remove those users first, or set Daemon:ForceStop); {UntilWhen}",
            EventName = "LeftAttached")]
        public static partial void LeftAttached(ILogger logger, string device, string users, string untilWhen);

        [LoggerMessage(4004, LogLevel.Information,
            "Detached this daemon's own copies of the mounts of {Device} at {MountPoints} (its mount namespace is private; the host's mounts stay)",
            EventName = "DetachedMountCopies")]
        public static partial void DetachedCopies(ILogger logger, string device, string mountPoints);

        [LoggerMessage(4005, LogLevel.Warning,
            "Could not detach this daemon's own copies of the mounts of {Device}: {MountPoints}; if the host unmounts it, this daemon's exit may hang in the kernel",
            EventName = "DetachMountCopiesFailed")]
        public static partial void DetachFailed(ILogger logger, string device, string mountPoints);

        [LoggerMessage(4006, LogLevel.Warning,
            "{Device} is no longer a device of volume {Volume} ({Reason}): it is left as it is, never re-attached (a filesystem on it keeps waiting); unmount it and 's3block delete {DeviceId}'",
            EventName = "StaleDevice")]
        public static partial void StaleDevice(ILogger logger, string device, string volume, string reason, int deviceId);

        [LoggerMessage(4007, LogLevel.Warning, "The device record of volume {Volume} is not followed: {Reason}", EventName = "DeviceRecordIgnored")]
        public static partial void RecordIgnored(ILogger logger, string volume, string reason);

        [LoggerMessage(4008, LogLevel.Information, "Deleting {Device}: a dead device of volume {Volume} (stopped, or its daemon died before starting it)",
            EventName = "DeletingDeadDevice")]
        public static partial void DeletingDead(ILogger logger, string device, string volume);

        [LoggerMessage(4009, LogLevel.Warning,
            "{Device} is another device of volume {Volume} and is left alone (only one is re-attached); unmount it and 's3block delete {DeviceId}'",
            EventName = "DeviceLeftAlone")]
        public static partial void LeftAlone(ILogger logger, string device, string volume, int deviceId);

        [LoggerMessage(4014, LogLevel.Warning,
            "{Device} was stopped since this daemon chose to re-attach it (its recovery deadline passed): a new device is created for volume {Volume}",
            EventName = "DeviceStoppedMeanwhile")]
        public static partial void StoppedMeanwhile(ILogger logger, string device, string volume);

        [LoggerMessage(4015, LogLevel.Error, "Could not look after the recovery-deadline guard", EventName = "GuardWatchFailed")]
        public static partial void GuardWatchFailed(ILogger logger, Exception exception);

        [LoggerMessage(4003, LogLevel.Information, "Stopped volume {Volume}: everything is in S3, the lease is released and the device deleted", EventName = "Stopped")]
        public static partial void Stopped(ILogger logger, string volume);
    }
}
