using System.ComponentModel;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace S3Block.Cache.Platform;

/// <summary>
/// The few POSIX calls that local durability needs and the BCL lacks: fdatasync, fsync of a directory (so a
/// rename or a new file survives power loss), a rename that never replaces or copies, and punching holes.
/// </summary>
/// <remarks>
/// This is the only interop outside <c>src/Ublk.Server/Interop</c>: it belongs to the lowest layer because both the
/// journal and the local object store need it, and neither may depend on the ublk host. No structs cross it.
/// </remarks>
public static partial class FileDurability
{
    private const int O_RDONLY = 0;
    private const int O_DIRECTORY = 0x10000; // x86-64 and arm64
    private const int O_CLOEXEC = 0x80000;
    private const int FALLOC_FL_KEEP_SIZE = 0x01;
    private const int FALLOC_FL_PUNCH_HOLE = 0x02;

    /// <summary>fdatasync(2): the file's data and the metadata needed to read it back are on stable storage.</summary>
    public static void DataSync(SafeFileHandle file)
    {
        if (fdatasync(file) != 0)
        {
            throw LastError("fdatasync");
        }
    }

    /// <summary>fsync(2) of a directory: entries created, renamed or removed in it are on stable storage.</summary>
    public static void SyncDirectory(string directory)
    {
        var fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
        {
            throw LastError($"open({directory})");
        }

        try
        {
            if (fsync(fd) != 0)
            {
                throw LastError($"fsync({directory})");
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    /// <summary>
    /// Allocates <paramref name="length"/> bytes of the file (fallocate, size included), so writes inside it cannot
    /// fail for lack of space. Throws <see cref="IOException"/> with <see cref="IsDiskFull"/> true on ENOSPC.
    /// </summary>
    public static void Preallocate(SafeFileHandle file, long length)
    {
        if (fallocate(file, 0, 0, length) == 0)
        {
            return;
        }

        var errno = Marshal.GetLastPInvokeError();
        const int EOPNOTSUPP = 95;
        if (errno == EOPNOTSUPP)
        {
            return; // tmpfs before 2.6.x, some FUSE file systems: nothing to reserve there.
        }

        throw ErrnoIOException($"fallocate of {length} bytes", errno);
    }

    /// <summary>
    /// rename(2) that never replaces <paramref name="to"/> and never copies (File.Move may fall back to copy + delete,
    /// which would leave an open handle on the deleted original). Uses renameat2(RENAME_NOREPLACE); where the file
    /// system lacks it, checks that <paramref name="to"/> is absent and renames.
    /// </summary>
    public static void RenameNoReplace(string from, string to)
    {
        const int AT_FDCWD = -100, RENAME_NOREPLACE = 1, EINVAL = 22, ENOSYS = 38;
        if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        {
            return;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno is not (EINVAL or ENOSYS))
        {
            throw ErrnoIOException($"rename({from}, {to})", errno);
        }

        if (File.Exists(to))
        {
            throw new IOException($"rename({from}, {to}) refused: {to} exists.", 17 /* EEXIST */);
        }

        if (rename(from, to) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            throw ErrnoIOException($"rename({from}, {to})", errno);
        }
    }

    /// <summary>Bytes an unprivileged writer can still allocate on the file system of <paramref name="path"/>.</summary>
    public static long AvailableBytes(string path) => new DriveInfo(path).AvailableFreeSpace;

    /// <summary>True on copy-on-write file systems (btrfs, ZFS), where overwriting a block allocates a new one.</summary>
    public static bool IsCopyOnWrite(string path) => new DriveInfo(path).DriveFormat is "btrfs" or "zfs" or "bcachefs";

    /// <summary>True for an error that says the disk (or quota) is full.</summary>
    public static bool IsDiskFull(Exception e)
    {
        const int ENOSPC = 28, EDQUOT = 122;
        return e switch
        {
            IOException io => io.HResult is ENOSPC or EDQUOT || io.HResult == unchecked((int)0x80070070), // errno, or ERROR_DISK_FULL
            Win32Exception w => w.NativeErrorCode is ENOSPC or EDQUOT,
            _ => false,
        };
    }

    /// <summary>The whole size of the file system of <paramref name="path"/>.</summary>
    public static long TotalBytes(string path) => new DriveInfo(path).TotalSize;

    /// <summary>Deallocates a byte range so it reads as zeros, keeping the file size (fallocate PUNCH_HOLE).</summary>
    /// <returns>False when the file system does not support hole punching (the caller then writes zeros).</returns>
    public static bool TryPunchHole(SafeFileHandle file, long offset, long length)
    {
        if (fallocate(file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        const int EOPNOTSUPP = 95;
        return errno == EOPNOTSUPP ? false : throw new Win32Exception(errno, $"fallocate(PUNCH_HOLE) failed: errno {errno}");
    }

    private static Win32Exception LastError(string call)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new Win32Exception(errno, $"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }

    /// <summary>The same message as an <see cref="IOException"/> whose HResult is the errno (what <see cref="IsDiskFull"/> reads).</summary>
    private static IOException ErrnoIOException(string call, int errno) =>
        new($"{call} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fdatasync(SafeFileHandle fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int renameat2(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rename(string oldPath, string newPath);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fallocate(SafeFileHandle fd, int mode, long offset, long length);
}
