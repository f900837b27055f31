using Microsoft.Extensions.Logging.Abstractions;
using Ublk.Server.Device;
using Ublk.Server.Interop;

namespace S3Block.Ublk.Tests.Device;

public sealed class IoFlusherTests
{
    [Fact]
    public void SetsTheThreadFlagsOrCountsTheFailure()
    {
        bool set = false;
        bool reported = false;
        uint flags = 0;
        long failuresBefore = IoFlusher.FailureCount;
        var thread = new Thread(() =>
        {
            set = IoFlusher.TrySetForCurrentThread(NullLogger.Instance);
            reported = IoFlusher.IsSetForCurrentThread();
            flags = TaskFlags.Parse(File.ReadAllText($"/proc/self/task/{Libc.GetTid()}/stat")) ?? 0;
        });
        thread.Start();
        thread.Join();

        if (set)
        {
            Assert.True(reported);
            Assert.True(TaskFlags.HasIoFlusher(flags));
        }
        else
        {
            Assert.False(reported);
            Assert.True(IoFlusher.FailureCount > failuresBefore);
        }
    }

    [Fact]
    public void OtherThreadsAreUntouched()
    {
        bool reported = true;
        var thread = new Thread(() => reported = IoFlusher.IsSetForCurrentThread());
        thread.Start();
        thread.Join();
        Assert.False(reported);
    }
}
