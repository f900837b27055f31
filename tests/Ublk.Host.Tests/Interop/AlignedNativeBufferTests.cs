using Ublk.Server.Interop;

namespace S3Block.Ublk.Tests.Interop;

/// <summary>
/// Tag buffers locked in memory: the lock shows in the process's VmLck at its full length (MLOCK_ONFAULT counts the
/// range, not the pages touched) and is released when the buffer is freed. Nothing else in this test project locks
/// memory, so VmLck moves only with these buffers.
/// </summary>
public sealed class AlignedNativeBufferTests
{
    private const int Length = 4 << 20;

    [Fact]
    public void A_locked_buffer_counts_in_VmLck_until_it_is_disposed()
    {
        long before = VmLckKiB();
        var buffer = new AlignedNativeBuffer(Length);
        Errno error = buffer.TryLock();
        Assert.SkipWhen(error is Errno.ENOMEM or Errno.EPERM, $"RLIMIT_MEMLOCK below {Length} bytes here ({error})");
        Assert.Equal(Errno.None, error);
        Assert.True(buffer.Locked);
        long locked = VmLckKiB();
        Assert.True(locked - before >= Length / 1024, $"VmLck {before} kB -> {locked} kB");

        // Locking again is free; the buffer still works as memory.
        Assert.Equal(Errno.None, buffer.TryLock());
        buffer.GetSpan().Fill(0x5a);
        Assert.Equal(0x5a, buffer.GetSpan()[Length - 1]);

        ((IDisposable)buffer).Dispose();
        long after = VmLckKiB();
        Assert.True(locked - after >= Length / 1024, $"VmLck {locked} kB -> {after} kB after dispose");
    }

    private static long VmLckKiB()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmLck:", StringComparison.Ordinal));
        return long.Parse(line["VmLck:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim());
    }
}
