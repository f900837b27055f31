using Microsoft.Win32.SafeHandles;

namespace S3Block.Cache.Journal;

/// <summary>Small positional-I/O helpers over <see cref="RandomAccess"/>.</summary>
internal static class SegmentFileIO
{
    /// <summary>Reads up to <c>destination.Length</c> bytes at <paramref name="offset"/>; fewer only at end of file.</summary>
    public static int ReadAt(SafeFileHandle handle, Span<byte> destination, long offset)
    {
        var total = 0;
        while (total < destination.Length)
        {
            var read = RandomAccess.Read(handle, destination[total..], offset + total);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    /// <summary>Reads exactly <c>destination.Length</c> bytes at <paramref name="offset"/>.</summary>
    public static void ReadExactlyAt(SafeFileHandle handle, Span<byte> destination, long offset)
    {
        if (ReadAt(handle, destination, offset) != destination.Length)
        {
            throw new EndOfStreamException($"Journal segment ends before offset {offset + destination.Length}.");
        }
    }

    /// <summary>Opens an existing segment for reading without locking it.</summary>
    public static SafeFileHandle OpenForRead(string path) =>
        File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

    /// <summary>Opens an existing segment for reading and writing without locking it.</summary>
    public static SafeFileHandle OpenForWrite(string path) =>
        File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
}
