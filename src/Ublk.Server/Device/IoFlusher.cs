using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Ublk.Server.Interop;

namespace Ublk.Server.Device;

/// <summary>
/// PR_SET_IO_FLUSHER for threads that serve block I/O (docs/ublk-protocol.md §5): it sets PF_MEMALLOC_NOIO |
/// PF_LOCAL_THROTTLE so that memory reclaim in this thread never waits for writeback to our own device.
/// It is per thread and needs CAP_SYS_RESOURCE; without it we keep running (with a warning and a counter).
/// </summary>
public static class IoFlusher
{
    private static long s_failures;
    private static int s_warned;

    [ThreadStatic]
    private static bool t_attempted;

    /// <summary>Threads on which setting IO_FLUSHER failed (export as a metric; should be 0 when running as root).</summary>
    public static long FailureCount => Volatile.Read(ref s_failures);

    /// <summary>Sets IO_FLUSHER on the calling thread. Returns false (logged, counted) if the kernel refuses.</summary>
    public static bool TrySetForCurrentThread(ILogger logger)
    {
        t_attempted = true;
        if (Libc.Prctl(Libc.PR_SET_IO_FLUSHER, 1, 0, 0, 0) == 0)
        {
            return true;
        }

        var errno = (Errno)Marshal.GetLastPInvokeError();
        Interlocked.Increment(ref s_failures);
        if (Interlocked.Exchange(ref s_warned, 1) == 0)
        {
            UblkLog.IoFlusherUnavailable(logger, Thread.CurrentThread.Name ?? "thread " + Libc.GetTid(), errno.ToString(),
                errno == Errno.EPERM ? "it needs CAP_SYS_RESOURCE (run as root)" : "the kernel refused it");
        }

        return false;
    }

    /// <summary>Sets IO_FLUSHER once per thread (a thread-pool thread running backend work); later calls are free.</summary>
    public static void EnsureForCurrentThread(ILogger logger)
    {
        if (!t_attempted)
        {
            TrySetForCurrentThread(logger);
        }
    }

    /// <summary>PR_GET_IO_FLUSHER for the calling thread.</summary>
    public static bool IsSetForCurrentThread() => Libc.Prctl(Libc.PR_GET_IO_FLUSHER, 0, 0, 0, 0) == 1;
}
