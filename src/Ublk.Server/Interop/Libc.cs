using System.Runtime.InteropServices;

namespace Ublk.Server.Interop;

/// <summary>
/// The libc entry points the ublk server needs that Tmds.LibC 0.5.0 lacks (prctl with PR_SET_IO_FLUSHER, gettid,
/// tgkill, execve); everything else (open, close, write, mmap, munmap, eventfd, kill, sched_setaffinity, io_uring_setup/enter/
/// register) comes from <c>Tmds.Linux.LibC</c>. "libc" resolves to libc.so.6 on Linux. Values are x86-64/arm64 Linux.
/// </summary>
internal static partial class Libc
{
    private const string LibraryName = "libc";

    /// <summary>open(2) of a block device: fail with EBUSY if anyone holds it exclusively (a mounted filesystem, dm, swap).</summary>
    public const int O_EXCL = 0x80;

    // prctl(2): see docs/ublk-protocol.md §5.
    public const int PR_SET_IO_FLUSHER = 57;
    public const int PR_GET_IO_FLUSHER = 58;

    /// <summary>umount2(2): the daemon detaches copies of its own device's mounts in its own mount namespace.</summary>
    [LibraryImport(LibraryName, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    /// <summary>prctl(2). glibc declares it variadic; integer-only arguments are passed identically on x86-64 and arm64.</summary>
    [LibraryImport(LibraryName, EntryPoint = "prctl", SetLastError = true)]
    public static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>
    /// execve(2): replaces the process image; returns only on failure. (Tmds.LibC has only fexecve, after which kernels
    /// before 6.14 name the process after the fd number instead of the program.)
    /// </summary>
    [LibraryImport(LibraryName, EntryPoint = "execve", SetLastError = true)]
    public static unsafe partial int Execve(byte* path, byte** argv, byte** envp);

    /// <summary>The kernel thread id (glibc 2.30+). Not <see cref="Environment.CurrentManagedThreadId"/>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "gettid")]
    public static partial int GetTid();

    /// <summary>Sends a signal to one thread (glibc 2.30+). Used by tests to provoke EINTR.</summary>
    [LibraryImport(LibraryName, EntryPoint = "tgkill", SetLastError = true)]
    public static partial int TgKill(int tgid, int tid, int signal);
}
