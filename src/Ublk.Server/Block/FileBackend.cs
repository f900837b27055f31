using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ublk.Server.Block;

/// <summary>
/// A disk in a regular file, like the kernel's loop device: positional reads and writes, FLUSH = fdatasync,
/// a FUA write = write + fdatasync, and DISCARD / WRITE_ZEROES punch a hole (fallocate PUNCH_HOLE|KEEP_SIZE),
/// falling back to writing zeros where the file system cannot punch holes. Reads past the end of a shorter file
/// return zeros.
/// </summary>
public sealed class FileBackend : IBlockBackend
{
    private const int FALLOC_FL_KEEP_SIZE = 0x01;
    private const int FALLOC_FL_PUNCH_HOLE = 0x02;
    private const int EOPNOTSUPP = 95;
    private const int ENOSYS = 38;
    private const int ENOSPC = 28;
    private const int ZeroChunk = 1 << 20;

    private readonly SafeFileHandle _handle;
    private volatile bool _cannotPunchHoles;

    private FileBackend(SafeFileHandle handle, string path, long sizeBytes, int logicalBlockSize)
    {
        _handle = handle;
        Path = path;
        SizeBytes = sizeBytes;
        LogicalBlockSize = logicalBlockSize;
    }

    public string Path { get; }

    public long SizeBytes { get; }

    public int LogicalBlockSize { get; }

    /// <summary>
    /// Opens (or creates) <paramref name="path"/>. With <paramref name="sizeBytes"/>, a missing or shorter file is
    /// extended (sparsely) to that size and a longer one is refused; without it, the file's length is the size.
    /// </summary>
    public static FileBackend Open(string path, long? sizeBytes = null, int logicalBlockSize = 512)
    {
        SafeFileHandle handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            long length = RandomAccess.GetLength(handle);
            long size = sizeBytes ?? length;
            if (length > size)
            {
                throw new ArgumentException($"{path} has {length} bytes, more than the requested size {size}; refusing to truncate it.", nameof(sizeBytes));
            }

            BackendArguments.Validate(size, logicalBlockSize);
            if (length < size)
            {
                RandomAccess.SetLength(handle, size);
            }

            return new FileBackend(handle, path, size, logicalBlockSize);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public ValueTask ReadAsync(long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        BackendArguments.CheckRange(offset, destination.Length, SizeBytes);
        Span<byte> target = destination.Span;
        while (!target.IsEmpty)
        {
            int read = RandomAccess.Read(_handle, target, offset);
            if (read == 0)
            {
                target.Clear(); // past the end of a file shorter than the device
                break;
            }

            offset += read;
            target = target[read..];
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> source, WriteFlags flags, CancellationToken cancellationToken)
    {
        BackendArguments.CheckRange(offset, source.Length, SizeBytes);
        try
        {
            RandomAccess.Write(_handle, source.Span, offset);
        }
        catch (IOException e) when (e.HResult == ENOSPC)
        {
            throw new BlockIOException(BlockIOException.ENOSPC, $"{Path}: no space left", e);
        }

        if ((flags & WriteFlags.ForceUnitAccess) != 0)
        {
            DataSync();
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        DataSync();
        return ValueTask.CompletedTask;
    }

    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken)
    {
        BackendArguments.CheckRange(offset, length, SizeBytes);
        ZeroRange(offset, length);
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteZeroesAsync(long offset, long length, CancellationToken cancellationToken)
    {
        BackendArguments.CheckRange(offset, length, SizeBytes);
        ZeroRange(offset, length);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _handle.Dispose();
        return ValueTask.CompletedTask;
    }

    private void ZeroRange(long offset, long length)
    {
        if (length == 0)
        {
            return;
        }

        if (!_cannotPunchHoles)
        {
            if (FileSystem.Fallocate(_handle, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) == 0)
            {
                return;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno is not (EOPNOTSUPP or ENOSYS))
            {
                throw new BlockIOException(BlockIOException.EIO, $"{Path}: fallocate(PUNCH_HOLE) failed: {Marshal.GetPInvokeErrorMessage(errno)}");
            }

            _cannotPunchHoles = true;
        }

        byte[] zeros = new byte[(int)Math.Min(length, ZeroChunk)];
        while (length > 0)
        {
            int count = (int)Math.Min(length, zeros.Length);
            RandomAccess.Write(_handle, zeros.AsSpan(0, count), offset);
            offset += count;
            length -= count;
        }
    }

    private void DataSync()
    {
        if (FileSystem.Fdatasync(_handle) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new BlockIOException(BlockIOException.EIO, $"{Path}: fdatasync failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    /// <summary>
    /// The two libc calls .NET has no API for. Classic DllImport with blittable arguments and a SafeHandle needs no
    /// unsafe code (this project has none; LibraryImport would require it).
    /// </summary>
    private static class FileSystem
    {
        [DllImport("libc", EntryPoint = "fallocate", SetLastError = true)]
        public static extern int Fallocate(SafeFileHandle fd, int mode, long offset, long length);

        [DllImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
        public static extern int Fdatasync(SafeFileHandle fd);
    }
}
