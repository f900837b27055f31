namespace S3Block.Ublk.Metrics;

/// <summary>
/// A registered snapshot delegate, called at most once per <see cref="MaxAge"/>: one scrape reads many instruments
/// from the same snapshot, and taking one may need a lock the I/O path also takes, so it is taken once per scrape
/// rather than once per instrument.
/// </summary>
internal sealed class SnapshotSource<T>(TimeProvider time)
    where T : class
{
    /// <summary>Longer than one scrape takes, shorter than any sane scrape interval.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMilliseconds(250);

    private readonly Lock _lock = new();
    private Func<T?>? _source;
    private T? _cached;
    private long _takenAt;
    private bool _valid;

    /// <summary>Replaces the delegate (null: nothing to report).</summary>
    public void Register(Func<T?>? source)
    {
        lock (_lock)
        {
            _source = source;
            _valid = false;
        }
    }

    /// <summary>The current snapshot, or null when nothing is registered or the delegate returned null.</summary>
    /// <remarks>An exception from the delegate propagates (the meter listener counts it as a callback error).</remarks>
    public T? Get()
    {
        lock (_lock)
        {
            if (_valid && time.GetElapsedTime(_takenAt) < MaxAge)
            {
                return _cached;
            }

            _cached = _source?.Invoke();
            _takenAt = time.GetTimestamp();
            _valid = true;
            return _cached;
        }
    }
}
