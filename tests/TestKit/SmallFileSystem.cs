using System.Diagnostics;

namespace S3Block.TestKit;

/// <summary>
/// A tmpfs of a few MiB mounted for one test, so that a test can fill a real file system and see the kernel's ENOSPC.
/// Needs root (the test suite runs as root, see the README); a failed mount fails the test, it never skips it.
/// </summary>
public sealed class SmallFileSystem : IDisposable
{
    public SmallFileSystem(long sizeBytes)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "s3block-small-fs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
        Run("mount", "-t", "tmpfs", "-o", $"size={sizeBytes}", "tmpfs", Path);
    }

    public string Path { get; }

    /// <summary>Fills the file system but <paramref name="leaveFree"/> bytes with a file; returns its path.</summary>
    public string Fill(long leaveFree)
    {
        var filler = System.IO.Path.Combine(Path, "filler");
        using var stream = new FileStream(filler, FileMode.Create, FileAccess.Write);
        var block = new byte[64 * 1024];
        Array.Fill(block, (byte)0xA5);
        while (new DriveInfo(Path).AvailableFreeSpace > leaveFree + block.Length)
        {
            stream.Write(block);
        }

        stream.Flush();
        return filler;
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        Directory.Delete(Path);
    }

    private static void Run(string command, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error} (the tests need root)");
        }
    }
}
