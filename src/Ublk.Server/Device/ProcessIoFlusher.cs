using System.Runtime.InteropServices;
using System.Text;
using Ublk.Server.Interop;
using Tmds.Linux;

namespace Ublk.Server.Device;

/// <summary>
/// IO_FLUSHER for every thread of the daemon, including the ones the .NET runtime starts before Main (GC, finalizer,
/// tiered compilation in a JIT build, signal handling) and the ones it starts later (thread pool, timers, sockets, the journal's
/// fdatasync thread): at the very start of Main, a daemon verb sets PR_SET_IO_FLUSHER on the main thread and execs
/// itself again with the same argv and environment. The new image's every thread then inherits the flags.
/// </summary>
/// <remarks>
/// <para>Why this works (kernel source, 5.6 to 6.12 and later): PR_SET_IO_FLUSHER sets PF_MEMALLOC_NOIO |
/// PF_LOCAL_THROTTLE in <c>current->flags</c>; <c>copy_process</c> copies the creating task's flags to a new thread or
/// process and clears only PF_SUPERPRIV, PF_WQ_WORKER, PF_IDLE and PF_NO_SETAFFINITY; <c>begin_new_exec</c> clears
/// only PF_RANDOMIZE, PF_FORKNOEXEC, PF_NOFREEZE and PF_NO_SETAFFINITY. So the flags survive the exec and are copied
/// into every thread created afterwards, io_uring's io-wq workers included.</para>
/// <para>The pid does not change (systemd's main pid, $WATCHDOG_PID, the ublk device's daemon pid all stay right).
/// The program (<see cref="Environment.ProcessPath"/>, i.e. /proc/self/exe) is the published native executable or a
/// JIT build's apphost (<c>s3block</c>), or the <c>dotnet</c> muxer (<c>dotnet s3block.dll</c>); argv from
/// /proc/self/cmdline reproduces each. <see cref="MarkerVariable"/> in the new image's environment stops a second
/// exec should the flag not have survived. Without CAP_SYS_RESOURCE (or if the exec fails) the daemon runs on as
/// before: the queue threads and request threads still try the per-thread call (<see cref="IoFlusher"/>), and the
/// daemon logs the state (<see cref="State"/>) when its device is ready.</para>
/// </remarks>
public static class ProcessIoFlusher
{
    /// <summary>Set in the environment of the re-executed image; removed from the managed environment there.</summary>
    public const string MarkerVariable = "S3BLOCK_IO_FLUSHER_REEXEC";

    /// <summary>What happened at the start of this process.</summary>
    public static ProcessIoFlusherState State { get; private set; } = ProcessIoFlusherState.NotAttempted;

    /// <summary>The errno of the prctl or exec that failed (<see cref="ProcessIoFlusherState.Refused"/>, <see cref="ProcessIoFlusherState.ExecFailed"/>).</summary>
    public static Errno Error { get; private set; }

    /// <summary>Whether every thread the runtime creates from now on inherits IO_FLUSHER.</summary>
    public static bool CoversEveryThread => State is ProcessIoFlusherState.SetBeforeRuntime or ProcessIoFlusherState.Inherited;

    /// <summary>What <see cref="EnsureBeforeRuntimeThreads"/> does for these arguments and this process's state.</summary>
    public static ProcessIoFlusherStep Decide(bool servesDevice, bool flusherSet, bool markerPresent)
    {
        if (!servesDevice)
        {
            return ProcessIoFlusherStep.NotADaemon;
        }

        if (flusherSet)
        {
            return markerPresent ? ProcessIoFlusherStep.DoneByReexec : ProcessIoFlusherStep.DoneByParent;
        }

        return markerPresent ? ProcessIoFlusherStep.GiveUp : ProcessIoFlusherStep.SetAndReexec;
    }

    /// <summary>
    /// Call first thing in Main. For a process that will serve a device (<paramref name="servesDevice"/>: only such
    /// processes pay for the second runtime start) without IO_FLUSHER: sets it on this thread and execs the same
    /// program again (does not return). Otherwise records the state and returns.
    /// </summary>
    public static void EnsureBeforeRuntimeThreads(bool servesDevice)
    {
        bool markerPresent = Environment.GetEnvironmentVariable(MarkerVariable) is not null;
        if (markerPresent)
        {
            // Not for children of the daemon (none today), and not visible to the configuration binder.
            Environment.SetEnvironmentVariable(MarkerVariable, null);
        }

        switch (Decide(servesDevice, IoFlusher.IsSetForCurrentThread(), markerPresent))
        {
            case ProcessIoFlusherStep.NotADaemon:
                State = ProcessIoFlusherState.NotADaemon;
                return;
            case ProcessIoFlusherStep.DoneByReexec:
                State = ProcessIoFlusherState.SetBeforeRuntime;
                return;
            case ProcessIoFlusherStep.DoneByParent:
                State = ProcessIoFlusherState.Inherited;
                return;
            case ProcessIoFlusherStep.GiveUp:
                State = ProcessIoFlusherState.LostInExec;
                return;
        }

        if (Libc.Prctl(Libc.PR_SET_IO_FLUSHER, 1, 0, 0, 0) != 0)
        {
            Error = (Errno)Marshal.GetLastPInvokeError();
            State = ProcessIoFlusherState.Refused;
            return;
        }

        Error = Reexec();
        // Still here: the exec failed. This thread keeps the flag; threads that exist already do not have it.
        State = ProcessIoFlusherState.ExecFailed;
    }

    /// <summary>Splits a NUL-separated /proc list (cmdline, environ) into its entries, without their terminators.</summary>
    public static List<byte[]> SplitNulSeparated(ReadOnlySpan<byte> data)
    {
        var entries = new List<byte[]>();
        while (!data.IsEmpty)
        {
            int end = data.IndexOf((byte)0);
            if (end < 0)
            {
                end = data.Length;
            }

            entries.Add(data[..end].ToArray());
            data = end < data.Length ? data[(end + 1)..] : [];
        }

        return entries;
    }

    /// <summary>The environment of the new image: ours (as the kernel got it at exec) plus the marker.</summary>
    public static List<byte[]> ReexecEnvironment(ReadOnlySpan<byte> environ)
    {
        byte[] marker = Encoding.ASCII.GetBytes(MarkerVariable + "=");
        List<byte[]> entries = SplitNulSeparated(environ);
        entries.RemoveAll(entry => entry.AsSpan().StartsWith(marker));
        entries.Add([.. marker, (byte)'1']);
        return entries;
    }

    /// <summary>
    /// execve(the program's path, argv, envp) with argv and the environment from /proc/self; if that path is gone (the
    /// file was replaced or deleted), fexecve(/proc/self/exe). Returns errno if both fail.
    /// </summary>
    private static unsafe Errno Reexec()
    {
        List<byte[]> argv;
        List<byte[]> envp;
        try
        {
            argv = SplitNulSeparated(File.ReadAllBytes("/proc/self/cmdline"));
            envp = ReexecEnvironment(File.ReadAllBytes("/proc/self/environ"));
        }
        catch (IOException)
        {
            return Errno.EIO;
        }
        catch (UnauthorizedAccessException)
        {
            return Errno.EACCES;
        }

        if (argv.Count == 0)
        {
            return Errno.EINVAL;
        }

        var pinned = new List<GCHandle>();
        try
        {
            byte** argvPointers = PinAll(argv, pinned);
            byte** envpPointers = PinAll(envp, pinned);
            RemoveDiagnosticsSocket();
            // The path (the apphost, or the dotnet muxer) names the new image as before (comm, ps, systemctl status).
            if (Environment.ProcessPath is { Length: > 0 } path)
            {
                fixed (byte* pathBytes = Encoding.UTF8.GetBytes(path + "\0"))
                {
                    // Returns only on failure.
                    _ = Libc.Execve(pathBytes, argvPointers, envpPointers);
                }
            }

            return ExecSelfByFd(argvPointers, envpPointers);
        }
        finally
        {
            pinned.ForEach(handle => handle.Free());
        }
    }

    /// <summary>fexecve of /proc/self/exe, which works even when the program's path no longer does.</summary>
    private static unsafe Errno ExecSelfByFd(byte** argv, byte** envp)
    {
        int fd;
        fixed (byte* path = "/proc/self/exe"u8)
        {
            fd = LibC.open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        }

        if (fd < 0)
        {
            return (Errno)Marshal.GetLastPInvokeError();
        }

        // Returns only on failure.
        _ = LibC.fexecve(fd, argv, envp);
        var error = (Errno)Marshal.GetLastPInvokeError();
        _ = LibC.close(fd);
        return error;
    }

    /// <summary>
    /// The runtime's diagnostics socket (dotnet-counters, dotnet-trace) is named after the pid and the process start
    /// time, which the exec keeps: the new image's runtime could not bind it again while the old file exists (it
    /// removes only its debugger pipes at start), so it goes now.
    /// </summary>
    private static void RemoveDiagnosticsSocket()
    {
        try
        {
            foreach (string socket in Directory.EnumerateFiles(Path.GetTempPath(), $"dotnet-diagnostic-{Environment.ProcessId}-*-socket"))
            {
                File.Delete(socket);
            }
        }
        catch (IOException)
        {
            // Diagnostics only.
        }
        catch (UnauthorizedAccessException)
        {
            // Diagnostics only.
        }
    }

    /// <summary>A NULL-terminated array of pointers to NUL-terminated copies of <paramref name="entries"/>, pinned until freed.</summary>
    private static unsafe byte** PinAll(List<byte[]> entries, List<GCHandle> pinned)
    {
        var pointers = new IntPtr[entries.Count + 1];
        for (int i = 0; i < entries.Count; i++)
        {
            byte[] terminated = [.. entries[i], 0];
            GCHandle handle = GCHandle.Alloc(terminated, GCHandleType.Pinned);
            pinned.Add(handle);
            pointers[i] = handle.AddrOfPinnedObject();
        }

        GCHandle array = GCHandle.Alloc(pointers, GCHandleType.Pinned);
        pinned.Add(array);
        return (byte**)array.AddrOfPinnedObject();
    }
}
