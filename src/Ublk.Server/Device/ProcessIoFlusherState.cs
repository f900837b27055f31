namespace Ublk.Server.Device;

/// <summary>Whether the process's threads are created with IO_FLUSHER (see <see cref="ProcessIoFlusher"/>).</summary>
public enum ProcessIoFlusherState
{
    /// <summary><see cref="ProcessIoFlusher.EnsureBeforeRuntimeThreads"/> was not called (tests, tools).</summary>
    NotAttempted,

    /// <summary>Not a daemon verb.</summary>
    NotADaemon,

    /// <summary>Set, then re-executed: every thread of this image has the flag.</summary>
    SetBeforeRuntime,

    /// <summary>The process was started with the flag: every thread of this image has it.</summary>
    Inherited,

    /// <summary>The kernel refused PR_SET_IO_FLUSHER (EPERM: no CAP_SYS_RESOURCE).</summary>
    Refused,

    /// <summary>The flag was set but the exec failed: only the main thread and threads it creates have it.</summary>
    ExecFailed,

    /// <summary>Re-executed, but the new image came up without the flag (a kernel that clears it at exec).</summary>
    LostInExec,
}
