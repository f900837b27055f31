using S3Block.Volume;

namespace S3Block.Ublk.Daemon;

/// <summary>What the daemon serves and where it keeps local state. Bound from the <c>Daemon</c> section.</summary>
internal sealed class DaemonOptions
{
    public const string Section = "Daemon";

    /// <summary>The volume to serve (required for <c>run</c>; the command's argument overrides it).</summary>
    public string Volume { get; set; } = "";

    /// <summary>Local state: the node identity, and per volume the journal, the chunk cache (unless
    /// <c>Cache:Folder</c> says otherwise) and the device record. Default: <c>data/state</c>; the systemd unit points it at
    /// <c>$STATE_DIRECTORY</c>.</summary>
    public string StateDirectory { get; set; } = "data/state";

    /// <summary>Take the volume's lease even if another node holds it (the other writer is fenced). Default: false.</summary>
    public bool ForceTakeover { get; set; }

    /// <summary>Stop the device on SIGTERM even while a filesystem is mounted on it (its I/O then fails). Default: false:
    /// the daemon uploads everything and leaves the device for the next daemon to recover.</summary>
    public bool ForceStop { get; set; }

    /// <summary>The daemon runs in a mount namespace of its own (the systemd unit's sandboxing sets this): once the
    /// device serves, and again before deciding at stop whether a filesystem still uses it, detach every mount of the
    /// device inside that namespace (see <see cref="global::Ublk.Server.Device.MountNamespaceCopies"/>). Never set it for a daemon in the host's
    /// namespace: it would unmount the user's filesystem there. Default: false.</summary>
    public bool DetachMountCopies { get; set; }

    /// <summary>How long a device may have no daemon (its daemon died, or stopped leaving it attached because it was in
    /// use) before it is stopped, so that its queued and new I/O fail (EIO) instead of hanging for ever (D state). The
    /// time counts from the moment the device lost its daemon; a daemon that re-attaches it within the time wins, one
    /// that is merely starting (replaying its journal, waiting for S3) does not stop the clock, because one stuck there
    /// would leave the device hanging for ever. A small guard process that the daemon starts for its device
    /// (<see cref="DeviceDeadlineGuard"/>) stops it. <see cref="TimeSpan.Zero"/>: no guard, I/O waits for ever.
    /// Default: 5 minutes.</summary>
    public TimeSpan RecoveryDeadline { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Set by <c>recover</c>: only re-attach an existing device, never create one.</summary>
    internal bool RecoverOnly { get; set; }

    public string JournalDirectory => Path.Combine(StateDirectory, Volume, "journal");

    public string DefaultCacheFolder => Path.Combine(StateDirectory, Volume, "cache");

    public string DeviceRecordPath => Path.Combine(VolumeStateFolder, DeviceRecord.FileName);

    /// <summary>This volume's local state: journal, device record, instance and guard locks.</summary>
    public string VolumeStateFolder => Path.Combine(StateDirectory, Volume);

    public const string InstanceLockFileName = "daemon.lock";

    /// <summary>Held by the daemon serving the volume (see <see cref="DaemonInstanceLock"/>).</summary>
    public string InstanceLockPath => Path.Combine(VolumeStateFolder, InstanceLockFileName);

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrEmpty(Volume))
        {
            yield return $"{Section}:Volume: required (the volume to serve; or give it as the argument of 'run')";
        }
        else if (!VolumeKeys.IsValidName(Volume))
        {
            yield return $"{Section}:Volume: '{Volume}' is not a valid volume name";
        }

        if (string.IsNullOrWhiteSpace(StateDirectory))
        {
            yield return $"{Section}:StateDirectory: required";
        }

        if (RecoveryDeadline < TimeSpan.Zero)
        {
            yield return $"{Section}:RecoveryDeadline: {RecoveryDeadline} is negative (00:00:00 disables it)";
        }
    }
}
