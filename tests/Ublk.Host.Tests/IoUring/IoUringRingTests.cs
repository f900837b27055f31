using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Ublk.Server.Interop;
using Ublk.Server.IoUring;
using Tmds.Linux;

namespace S3Block.Ublk.Tests.IoUring;

/// <summary>The ring on the host kernel (which has io_uring, just not ublk).</summary>
public sealed unsafe class IoUringRingTests
{
    private static readonly IoUringSetupFlags[] QueueRingFlags =
    [
        IoUringSetupFlags.CoopTaskrun | IoUringSetupFlags.SingleIssuer | IoUringSetupFlags.DeferTaskrun,
        IoUringSetupFlags.CoopTaskrun,
        IoUringSetupFlags.None,
    ];

    [Fact]
    public void NopRoundTrip()
    {
        using var ring = IoUringRing.Create(8, IoUringSetupFlags.None);
        Assert.True(ring.SqEntries >= 8);
        Assert.True((ring.Features & IoUringFeatures.SingleMmap) != 0);

        SqePrep.Nop(ring.GetSqe(), 42);
        Assert.Equal(1, ring.SubmitAndWait(1));
        Assert.True(ring.TryGetCompletion(out io_uring_cqe cqe));
        Assert.Equal(42ul, cqe.user_data);
        Assert.Equal(0, cqe.res);
        Assert.False(ring.TryGetCompletion(out _));
    }

    [Fact]
    public void FillsTheWholeSubmissionQueueThenReapsEverything()
    {
        using var ring = IoUringRing.Create(64, IoUringSetupFlags.None);
        for (ulong i = 0; i < ring.SqEntries; i++)
        {
            SqePrep.Nop(ring.GetSqe(), i);
        }

        Assert.True(ring.GetSqe() == null, "a full SQ hands out no more slots");
        Assert.Equal(0u, ring.FreeSqes);
        Assert.Equal((int)ring.SqEntries, ring.SubmitAndWait(ring.SqEntries));

        var seen = new HashSet<ulong>();
        while (ring.TryGetCompletion(out io_uring_cqe cqe))
        {
            Assert.Equal(0, cqe.res);
            Assert.True(seen.Add(cqe.user_data));
        }

        Assert.Equal((int)ring.SqEntries, seen.Count);
        Assert.Equal(ring.SqEntries, ring.FreeSqes);
    }

    [Fact]
    public void WrapsAroundManyTimes()
    {
        using var ring = IoUringRing.Create(4, IoUringSetupFlags.None);
        ulong next = 0;
        ulong expected = 0;
        for (int round = 0; round < 5000; round++)
        {
            int batch = 1 + (round % 4);
            for (int i = 0; i < batch; i++)
            {
                SqePrep.Nop(ring.GetSqe(), next++);
            }

            ring.SubmitAndWait((uint)batch);
            while (ring.TryGetCompletion(out io_uring_cqe cqe))
            {
                Assert.Equal(expected++, cqe.user_data); // NOPs complete in order
            }
        }

        Assert.Equal(next, expected);
        Assert.True(next > 100 * ring.SqEntries);
    }

    [Fact]
    public void Sqe128RingHands128ByteSlots()
    {
        using var ring = IoUringRing.Create(4, IoUringSetupFlags.Sqe128);
        Assert.Equal(IoUringSetupFlags.Sqe128, ring.Flags);
        IoUringSqe* first = ring.GetSqe();
        IoUringSqe* second = ring.GetSqe();
        Assert.Equal(128, (int)((byte*)second - (byte*)first));
        SqePrep.Nop(first, 1);
        SqePrep.Nop(second, 2);
        Assert.Equal(2, ring.SubmitAndWait(2));
        Assert.True(ring.TryGetCompletion(out io_uring_cqe a));
        Assert.True(ring.TryGetCompletion(out io_uring_cqe b));
        Assert.Equal([1ul, 2ul], new[] { a.user_data, b.user_data });
    }

    [Fact]
    public void QueueRingFlagsAreAcceptedOrFallBack()
    {
        IoUringSetupFlags got = IoUringSetupFlags.None;
        RunOnDedicatedThread(() =>
        {
            using var ring = IoUringRing.CreateWithFallback(129, QueueRingFlags);
            got = ring.Flags;
            SqePrep.Nop(ring.GetSqe(), 5);
            ring.SubmitAndWait(1);
            Assert.True(ring.TryGetCompletion(out io_uring_cqe cqe));
            Assert.Equal(5ul, cqe.user_data);
        });
        Assert.Contains(got, QueueRingFlags);
    }

    [Fact]
    public void UnknownFlagsFailWithEinvalAndFallThrough()
    {
        var bogus = (IoUringSetupFlags)(1u << 30);
        var e = Assert.Throws<ErrnoException>(() => IoUringRing.Create(4, bogus));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Contains("io_uring_setup", e.Message);

        using var ring = IoUringRing.CreateWithFallback(4, [bogus, IoUringSetupFlags.None]);
        Assert.Equal(IoUringSetupFlags.None, ring.Flags);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EventFdReadIsWokenFromAnotherThread(bool queueRingFlags)
    {
        int efd = LibC.eventfd(0, LibC.EFD_CLOEXEC);
        Assert.True(efd >= 0);
        using var eventFd = new FileDescriptorHandle(efd);
        ulong* buffer = (ulong*)NativeMemory.AllocZeroed(8);
        try
        {
            RunOnDedicatedThread(() =>
            {
                using IoUringRing ring = queueRingFlags
                    ? IoUringRing.CreateWithFallback(8, QueueRingFlags)
                    : IoUringRing.Create(8, IoUringSetupFlags.None);
                SqePrep.Read(ring.GetSqe(), eventFd, buffer, 8, 0, 77);
                ring.Submit();
                Assert.False(ring.TryGetCompletion(out _));

                var writer = new Thread(() =>
                {
                    Thread.Sleep(100);
                    WriteEventFd(eventFd, 3);
                });
                writer.Start();
                ring.SubmitAndWait(1);
                writer.Join();

                Assert.True(ring.TryGetCompletion(out io_uring_cqe cqe));
                Assert.Equal(77ul, cqe.user_data);
                Assert.Equal(8, cqe.res);
                Assert.Equal(3ul, *buffer);
            });
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void WaitSurvivesSignalsAndStillCompletes()
    {
        // A handler must exist, or the kernel ignores SIGWINCH and never interrupts the wait.
        using var registration = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, context => context.Cancel = true);
        int efd = LibC.eventfd(0, LibC.EFD_CLOEXEC);
        using var eventFd = new FileDescriptorHandle(efd);
        ulong* buffer = (ulong*)NativeMemory.AllocZeroed(8);
        try
        {
            int tid = 0;
            long interrupted = -1;
            io_uring_cqe cqe = default;
            using var armed = new ManualResetEventSlim();
            var waiter = new Thread(() =>
            {
                using var ring = IoUringRing.CreateWithFallback(8, QueueRingFlags);
                tid = Libc.GetTid();
                SqePrep.Read(ring.GetSqe(), eventFd, buffer, 8, 0, 1);
                ring.Submit();
                armed.Set();
                ring.SubmitAndWait(1);
                ring.TryGetCompletion(out cqe);
                interrupted = ring.InterruptedWaits;
            });
            waiter.Start();
            armed.Wait(TestContext.Current.CancellationToken);
            for (int i = 0; i < 20; i++)
            {
                Thread.Sleep(10);
                Assert.Equal(0, Libc.TgKill(Environment.ProcessId, tid, 28 /* SIGWINCH */));
            }

            Assert.True(waiter.IsAlive, "signals must not end the wait");
            WriteEventFd(eventFd, 1);
            Assert.True(waiter.Join(TimeSpan.FromSeconds(10)));
            Assert.Equal(1ul, cqe.user_data);
            Assert.Equal(8, cqe.res);
            TestContext.Current.TestOutputHelper?.WriteLine($"EINTR retries observed: {interrupted}");
            Assert.True(interrupted > 0, "no signal interrupted the wait, so the EINTR retry was not exercised");
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    [Fact]
    public void CompletionsBeyondTheCqAreKeptAndFlushed()
    {
        // 4 SQ entries, 8 CQ entries: 12 NOPs without reaping overflow the CQ; with NODROP the kernel keeps the extra.
        using var ring = IoUringRing.Create(4, IoUringSetupFlags.None, cqEntries: 8);
        Assert.True((ring.Features & IoUringFeatures.NoDrop) != 0);
        for (int batch = 0; batch < 3; batch++)
        {
            for (int i = 0; i < 4; i++)
            {
                SqePrep.Nop(ring.GetSqe(), (ulong)((batch * 4) + i));
            }

            ring.Submit();
        }

        var seen = new HashSet<ulong>();
        for (int attempt = 0; attempt < 100 && seen.Count < 12; attempt++)
        {
            while (ring.TryGetCompletion(out io_uring_cqe cqe))
            {
                seen.Add(cqe.user_data);
            }

            ring.Submit(); // flushes the overflow backlog (GETEVENTS) or submits what EBUSY left behind
        }

        Assert.Equal(12, seen.Count);
        Assert.Equal(0u, ring.DroppedCompletions);
        TestContext.Current.TestOutputHelper?.WriteLine($"busy retries: {ring.BusyRetries}");
    }

    private static void WriteEventFd(FileDescriptorHandle eventFd, ulong value)
    {
        Assert.Equal(8L, (long)LibC.write(eventFd.Fd, &value, 8));
    }

    private static void RunOnDedicatedThread(Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new Xunit.Sdk.XunitException($"failed on the dedicated thread: {failure}");
        }
    }
}
