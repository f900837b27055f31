namespace S3Block.ObjectStore;

/// <summary>Capped exponential backoff with full jitter, as AWS's architecture blog recommends for throttled stores.</summary>
/// <param name="MaxAttempts">How many tries in all (1 = no retry); <see cref="int.MaxValue"/> retries until cancelled.</param>
/// <param name="BaseDelay">The cap of the first backoff; it doubles per attempt.</param>
/// <param name="MaxDelay">The largest backoff cap.</param>
public sealed record RetryPolicy(int MaxAttempts, TimeSpan BaseDelay, TimeSpan MaxDelay)
{
    /// <summary>For foreground calls: 6 tries within a few seconds.</summary>
    public static RetryPolicy Default { get; } = new(6, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2));

    /// <summary>No retries: every failure reaches the caller.</summary>
    public static RetryPolicy None { get; } = new(1, TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>The sleep before try number <paramref name="attempt"/> + 1 (attempt counts from 1).</summary>
    public TimeSpan DelayAfter(int attempt, Random random)
    {
        var cap = BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        cap = Math.Min(cap, MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(random.NextDouble() * cap);
    }
}
