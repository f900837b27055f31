using Microsoft.Extensions.Logging.Abstractions;
using S3Block.Ublk.Device;
using S3Block.Ublk.Interop;

namespace S3Block.Ublk.Tests.Device;

public sealed class IoFlusherTests
{
    private const uint PfMemallocNoio = 0x00080000;
    private const uint PfLocalThrottle = 0x00100000;

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
            flags = ThreadFlags(Libc.GetTid());
        });
        thread.Start();
        thread.Join();

        if (set)
        {
            Assert.True(reported);
            Assert.Equal(PfMemallocNoio | PfLocalThrottle, flags & (PfMemallocNoio | PfLocalThrottle));
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

    /// <summary>Field 9 ("flags") of /proc/self/task/TID/stat.</summary>
    private static uint ThreadFlags(int tid)
    {
        string stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
        string[] afterName = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return uint.Parse(afterName[6]); // fields 3.. follow the name: state(3) ppid pgrp session tty tpgid flags(9)
    }
}
