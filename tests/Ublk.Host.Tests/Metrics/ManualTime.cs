namespace S3Block.Ublk.Tests.Metrics;

/// <summary>A clock the test moves: wall time and the monotonic timestamp advance together.</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => _now;

    public override long GetTimestamp() => (_now - DateTimeOffset.UnixEpoch).Ticks;

    public void Advance(TimeSpan by) => _now += by;
}
