using Ublk.Server.Device;

namespace S3Block.Ublk.Tests.Device;

public sealed class TaskFlagsTests
{
    [Fact]
    public void The_flags_are_field_9_counted_after_the_name()
    {
        const string stat = "4242 (.NET TP Worker) S 1 4242 4242 0 -1 1077936192 120 0 0 0 3 1 0 0 20 0 31 0 12345 0 0";
        Assert.Equal(1077936192u, TaskFlags.Parse(stat));
    }

    [Fact]
    public void A_name_with_parentheses_and_spaces_does_not_shift_the_fields()
    {
        const string stat = "77 (a) b (c) ) R 1 77 77 0 -1 5767232 0 0";
        Assert.Equal(5767232u, TaskFlags.Parse(stat));
    }

    [Fact]
    public void A_line_that_is_not_a_stat_line_has_no_flags()
    {
        Assert.Null(TaskFlags.Parse("garbage"));
        Assert.Null(TaskFlags.Parse("1 (x) S 1 2"));
    }

    [Fact]
    public void IO_FLUSHER_needs_both_bits()
    {
        Assert.True(TaskFlags.HasIoFlusher(0x00400040u | 0x00080000u | 0x00100000u));
        Assert.False(TaskFlags.HasIoFlusher(0x00400040u | 0x00080000u));
        Assert.False(TaskFlags.HasIoFlusher(0x00400040u | 0x00100000u));
        Assert.Equal(0x00180000u, TaskFlags.IoFlusher);
    }

    [Fact]
    public void Own_threads_are_counted_from_proc()
    {
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var thread = new Thread(() => { started.Set(); release.Wait(); });
        thread.Start();
        started.Wait(TestContext.Current.CancellationToken);
        try
        {
            (int threads, int withIoFlusher) = TaskFlags.CountOwnThreads();
            // The test host runs many threads; this one is certainly among them, and none has the flag unless set.
            Assert.True(threads >= 2, $"threads={threads}");
            Assert.InRange(withIoFlusher, 0, threads);
            int listed = Directory.GetDirectories("/proc/self/task").Length;
            Assert.InRange(threads, listed - 8, listed + 8);
        }
        finally
        {
            release.Set();
            thread.Join();
        }
    }
}
