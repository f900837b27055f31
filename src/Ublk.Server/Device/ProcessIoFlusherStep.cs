namespace Ublk.Server.Device;

/// <summary>What <see cref="ProcessIoFlusher.Decide"/> tells the start of Main to do.</summary>
public enum ProcessIoFlusherStep
{
    /// <summary>Not a verb that serves a device: nothing to do.</summary>
    NotADaemon,

    /// <summary>This is the re-executed image and it has the flag.</summary>
    DoneByReexec,

    /// <summary>Whoever started us set the flag already (e.g. a launcher).</summary>
    DoneByParent,

    /// <summary>Set the flag and exec again.</summary>
    SetAndReexec,

    /// <summary>This is the re-executed image but the flag is gone: do not loop.</summary>
    GiveUp,
}
