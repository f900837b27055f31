using System.Runtime.InteropServices;

namespace S3Block.Tests.PowerCut;

/// <summary>The few syscalls .NET does not offer: O_DIRECT opens, pwrite from aligned native memory, fdatasync, hole punching.</summary>
internal static unsafe partial class Libc
{
    public const int O_RDWR = 2;
    public const int O_DIRECT = 0x4000;
    public const int O_CLOEXEC = 0x80000;
    public const int FALLOC_FL_KEEP_SIZE = 1;
    public const int FALLOC_FL_PUNCH_HOLE = 2;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    public static partial nint PWrite(int fd, void* buffer, nuint count, long offset);

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    public static partial int FDataSync(int fd);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    public static partial int FAllocate(int fd, int mode, long offset, long length);

    public static Exception Error(string what) =>
        new IOException($"{what}: {Marshal.GetLastPInvokeErrorMessage()} (errno {Marshal.GetLastPInvokeError()})");
}
