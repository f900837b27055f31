using System.Runtime.InteropServices;

namespace S3Block.Ublk.Interop;

/// <summary>
/// The libc entry points the ublk server uses, declared by hand (Tmds.LibC is not available here).
/// "libc" resolves to libc.so.6 on Linux (the runtime maps the name). All numbers are x86-64/arm64 Linux values.
/// </summary>
internal static unsafe partial class Libc
{
    private const string LibraryName = "libc";

    // open(2) flags.
    public const int O_RDONLY = 0x0;
    public const int O_RDWR = 0x2;
    public const int O_CLOEXEC = 0x80000;

    /// <summary>With a block device: fail with EBUSY if anyone holds it exclusively (a mounted filesystem, dm, swap).</summary>
    public const int O_EXCL = 0x80;

    // mmap(2).
    public const int PROT_READ = 0x1;
    public const int PROT_WRITE = 0x2;
    public const int MAP_SHARED = 0x01;
    public const int MAP_POPULATE = 0x8000;

    // eventfd(2).
    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;

    // prctl(2): see docs/ublk-protocol.md §5.
    public const int PR_SET_IO_FLUSHER = 57;
    public const int PR_GET_IO_FLUSHER = 58;

    /// <summary>mmap's error return, <c>(void*)-1</c>.</summary>
    public static readonly void* MapFailed = (void*)-1;

    [LibraryImport(LibraryName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    /// <summary>umount2(2): the daemon detaches copies of its own device's mounts in its own mount namespace.</summary>
    [LibraryImport(LibraryName, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    [LibraryImport(LibraryName, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(LibraryName, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(FileDescriptorHandle fd, void* buffer, nuint count);

    [LibraryImport(LibraryName, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(FileDescriptorHandle fd, void* buffer, nuint count);

    [LibraryImport(LibraryName, EntryPoint = "pread", SetLastError = true)]
    public static partial nint PRead(FileDescriptorHandle fd, void* buffer, nuint count, long offset);

    [LibraryImport(LibraryName, EntryPoint = "pwrite", SetLastError = true)]
    public static partial nint PWrite(FileDescriptorHandle fd, void* buffer, nuint count, long offset);

    [LibraryImport(LibraryName, EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, FileDescriptorHandle fd, long offset);

    /// <summary>mmap by raw fd: only for the io_uring ring, whose fd is owned by the same object.</summary>
    [LibraryImport(LibraryName, EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(LibraryName, EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(void* address, nuint length);

    /// <summary>kill(2): sends a signal to a process (the CLI asks a running daemon to flush with SIGUSR1).</summary>
    [LibraryImport(LibraryName, EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    /// <summary>SIGUSR1 on Linux (x86-64 and arm64).</summary>
    internal const int SIGUSR1 = 10;

    [LibraryImport(LibraryName, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    /// <summary>prctl(2). glibc declares it variadic; integer-only arguments are passed identically on x86-64 and arm64.</summary>
    [LibraryImport(LibraryName, EntryPoint = "prctl", SetLastError = true)]
    public static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport(LibraryName, EntryPoint = "getpid")]
    public static partial int GetPid();

    /// <summary>The kernel thread id (glibc 2.30+). Not <see cref="Environment.CurrentManagedThreadId"/>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "gettid")]
    public static partial int GetTid();

    [LibraryImport(LibraryName, EntryPoint = "sched_setaffinity", SetLastError = true)]
    public static partial int SchedSetAffinity(int pid, nuint cpuSetSize, ulong* mask);

    /// <summary>Sends a signal to one thread (glibc 2.30+). Used by tests to provoke EINTR.</summary>
    [LibraryImport(LibraryName, EntryPoint = "tgkill", SetLastError = true)]
    public static partial int TgKill(int tgid, int tid, int signal);

    /// <summary>syscall(2), bound non-variadically with integer arguments (safe on x86-64 and arm64 Linux).</summary>
    [LibraryImport(LibraryName, EntryPoint = "syscall", SetLastError = true)]
    public static partial long Syscall(long number, long arg1, long arg2, long arg3, long arg4, long arg5, long arg6);
}
