using S3Block.Volume;

namespace S3Block.Tests.Volume;

/// <summary><see cref="ReaderPriority"/>: PUTs beyond the allowance wait while a read waits for S3, and go once none does.</summary>
public sealed class ReaderPriorityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Without_readers_every_PUT_starts_at_once()
    {
        var priority = new ReaderPriority(putsWhileReading: 1, TimeSpan.Zero, TimeProvider.System);
        for (var i = 0; i < 8; i++)
        {
            Assert.True(priority.PutStartingAsync(Ct).AsTask().IsCompletedSuccessfully);
        }

        Assert.Equal(0, priority.PutsDelayed);
    }

    [Fact]
    public async Task While_a_read_waits_only_the_allowance_of_PUTs_runs_and_the_rest_start_when_it_ends()
    {
        var priority = new ReaderPriority(putsWhileReading: 2, TimeSpan.Zero, TimeProvider.System);
        priority.ReadStarted();
        Assert.True(priority.PutStartingAsync(Ct).AsTask().IsCompletedSuccessfully);
        Assert.True(priority.PutStartingAsync(Ct).AsTask().IsCompletedSuccessfully);
        var third = priority.PutStartingAsync(Ct).AsTask();
        var fourth = priority.PutStartingAsync(Ct).AsTask();
        Assert.False(third.IsCompleted);
        Assert.False(fourth.IsCompleted);

        priority.PutEnded(); // one of the two waiting takes the freed place, the other still waits
        await Task.WhenAny(third, fourth).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(1, new[] { third, fourth }.Count(t => t.IsCompleted));

        priority.ReadEnded();
        await Task.WhenAll(third, fourth).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(2, priority.PutsDelayed);
        Assert.Equal(0, priority.ReadsWaiting);
    }

    [Fact]
    public async Task A_read_that_starts_while_PUTs_run_holds_back_only_PUTs_that_start_after_it()
    {
        var priority = new ReaderPriority(putsWhileReading: 1, TimeSpan.Zero, TimeProvider.System);
        for (var i = 0; i < 3; i++)
        {
            await priority.PutStartingAsync(Ct); // three already running: they are not interrupted
        }

        priority.ReadStarted();
        var next = priority.PutStartingAsync(Ct).AsTask();
        priority.PutEnded();
        priority.PutEnded();
        Assert.False(next.IsCompleted); // one still runs: that is the allowance

        priority.PutEnded();
        await next.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    [Fact]
    public async Task PUTs_held_back_wait_for_the_quiet_period_after_the_last_read_and_a_new_read_extends_it()
    {
        var priority = new ReaderPriority(putsWhileReading: 1, TimeSpan.FromSeconds(2), TimeProvider.System);
        priority.ReadStarted();
        await priority.PutStartingAsync(Ct);
        var held = priority.PutStartingAsync(Ct).AsTask();

        priority.ReadEnded();
        await Task.Delay(100, Ct);
        Assert.False(held.IsCompleted); // the reader's next read may come any moment

        await held.WaitAsync(TimeSpan.FromSeconds(10), Ct); // no read came: it starts once the period is over
        priority.ReadStarted();
        Assert.False(priority.PutStartingAsync(Ct).AsTask().IsCompleted);
    }

    [Fact]
    public async Task A_waiting_PUT_can_be_cancelled()
    {
        var priority = new ReaderPriority(putsWhileReading: 1, TimeSpan.Zero, TimeProvider.System);
        priority.ReadStarted();
        await priority.PutStartingAsync(Ct);
        using var cancel = new CancellationTokenSource();
        var waiting = priority.PutStartingAsync(cancel.Token).AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }
}
