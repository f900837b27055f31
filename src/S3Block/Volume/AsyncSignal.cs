namespace S3Block.Volume;

/// <summary>An auto-reset wake-up for one background loop: many <see cref="Set"/>s before a wait count as one.</summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set() => Volatile.Read(ref _next).TrySetResult();

    /// <summary>Waits until set (or the timeout passes), then resets.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _next);
        try
        {
            await current.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
        }

        Interlocked.CompareExchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
    }
}
