using Tmds.Linux;
using Ublk.Server.Device;
using Ublk.Server.Interop;
using Ublk.Server.IoUring;

namespace S3Block.Ublk.Tests.Device;

/// <summary>
/// The MPSC + eventfd completion path exactly as a queue uses it: a dedicated consumer thread owning a queue-style
/// ring with the eventfd READ armed, and completions posted from the thread pool.
/// </summary>
public sealed unsafe class CompletionChannelTests
{
    private const ulong WakeupUserData = ulong.MaxValue;

    [Fact]
    public void EveryPostArrivesExactlyOnceAndWakeupsCoalesce()
    {
        const int tags = 64;
        const int rounds = 300;
        using var channel = new CompletionChannel(tags);
        int[] round = new int[tags];
        int received = 0;
        int wakeups = 0;
        Exception? failure = null;

        var consumer = new Thread(() =>
        {
            try
            {
                using var ring = IoUringRing.CreateWithFallback(tags + 1,
                [
                    IoUringSetupFlags.CoopTaskrun | IoUringSetupFlags.SingleIssuer | IoUringSetupFlags.DeferTaskrun,
                    IoUringSetupFlags.None,
                ]);
                channel.PrepareWakeupRead(ring.GetSqe(), WakeupUserData);
                ring.Submit();

                // "Dispatch" every tag: the pool completes it and posts (tag, round).
                for (int tag = 0; tag < tags; tag++)
                {
                    PostFromPool(channel, tag, 0);
                }

                var taken = new TagCompletion[tags];
                while (received < tags * rounds)
                {
                    ring.SubmitAndWait(1);
                    while (ring.TryGetCompletion(out io_uring_cqe cqe))
                    {
                        Assert.Equal(WakeupUserData, cqe.user_data);
                        Assert.Equal(8, cqe.res);
                        wakeups++;
                        int count = channel.TakeAll(taken);
                        for (int i = 0; i < count; i++)
                        {
                            (int tag, int result) = taken[i];
                            Assert.Equal(round[tag], result);
                            received++;
                            if (++round[tag] < rounds)
                            {
                                PostFromPool(channel, tag, round[tag]); // "commit and fetch" the next request
                            }
                        }

                        channel.PrepareWakeupRead(ring.GetSqe(), WakeupUserData);
                    }
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        consumer.Start();
        Assert.True(consumer.Join(TimeSpan.FromSeconds(60)), "the consumer was never woken for some completion");
        Assert.Null(failure);

        Assert.Equal(tags * rounds, received);
        Assert.All(round, r => Assert.Equal(rounds, r));
        Assert.True(channel.WakeupWrites <= received, "at most one eventfd write per completion");
        Assert.True(wakeups <= channel.WakeupWrites);
        TestContext.Current.TestOutputHelper?.WriteLine($"{received} completions, {channel.WakeupWrites} eventfd writes, {wakeups} wake-ups");
    }

    [Fact]
    public void TakeAllReturnsNothingWhenEmptyAndEverythingOtherwise()
    {
        using var channel = new CompletionChannel(8);
        var taken = new TagCompletion[8];
        Assert.Equal(0, channel.TakeAll(taken));

        channel.Post(3, 4096);
        channel.Post(5, -5);
        channel.Post(0, 0);
        int count = channel.TakeAll(taken);
        Assert.Equal(3, count);
        Assert.Equal(
            new[] { new TagCompletion(0, 0), new TagCompletion(3, 4096), new TagCompletion(5, -5) },
            taken[..count].OrderBy(t => t.Tag));
        Assert.Equal(0, channel.TakeAll(taken));
        Assert.Equal(1, channel.WakeupWrites); // the three posts shared one eventfd write

        channel.Post(1, 1);
        Assert.Equal(2, channel.WakeupWrites); // TakeAll cleared the flag, so the next post writes again
    }

    [Fact]
    public void WakeAfterDisposeIsHarmless()
    {
        var channel = new CompletionChannel(1);
        channel.Dispose();
        channel.Wake();
    }

    private static void PostFromPool(CompletionChannel channel, int tag, int result) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.channel.Post(s.tag, s.result), (channel, tag, result), preferLocal: false);
}
