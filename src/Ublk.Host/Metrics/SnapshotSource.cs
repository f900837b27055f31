namespace S3Block.Ublk.Metrics;

/// <summary>
/// A registered snapshot delegate. <see cref="S3BlockMetrics"/> reads each source once per scrape (in the registry's
/// before-collect callback), so one scrape sees one consistent snapshot and takes the component's lock once.
/// </summary>
internal sealed class SnapshotSource<T>
    where T : class
{
    private Func<T?>? _source;

    /// <summary>Replaces the delegate (null: nothing to report).</summary>
    public void Register(Func<T?>? source) => Volatile.Write(ref _source, source);

    /// <summary>The current snapshot, or null when nothing is registered or the delegate returned null.</summary>
    public T? Get() => Volatile.Read(ref _source)?.Invoke();
}
