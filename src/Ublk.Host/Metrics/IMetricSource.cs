namespace S3Block.Ublk.Metrics;

/// <summary>Something that contributes metric families to a scrape (the meter collector, process metrics, ...).</summary>
/// <remarks>Called on the scrape thread, one scrape at a time. Must be quick and must not block I/O paths: read
/// counters and snapshots, never wait for locks that requests hold for long.</remarks>
public interface IMetricSource
{
    /// <summary>Adds this source's current families to <paramref name="families"/>.</summary>
    void Collect(ICollection<MetricFamily> families);
}
