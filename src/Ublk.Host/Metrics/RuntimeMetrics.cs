using System.Globalization;

namespace S3Block.Ublk.Metrics;

/// <summary>A few .NET runtime metrics (<c>dotnet_*</c>): GC heap and collections, allocation, pauses, thread pool.</summary>
public sealed class RuntimeMetrics : IMetricSource
{
    /// <inheritdoc/>
    public void Collect(ICollection<MetricFamily> families)
    {
        families.Add(MetricFamily.Single("dotnet_gc_heap_bytes", MetricType.Gauge,
            "Bytes currently thought to be allocated on the managed heap (GC.GetTotalMemory).", GC.GetTotalMemory(false)));
        families.Add(new MetricFamily("dotnet_gc_collections_total", MetricType.Counter,
            "Garbage collections since the process started, by generation.",
            [.. Enumerable.Range(0, GC.MaxGeneration + 1).Select(g =>
                new ValuePoint([new("generation", g.ToString(CultureInfo.InvariantCulture))], GC.CollectionCount(g)))]));
        families.Add(MetricFamily.Single("dotnet_gc_allocated_bytes_total", MetricType.Counter,
            "Bytes allocated on the managed heap since the process started.", GC.GetTotalAllocatedBytes(false)));
        families.Add(MetricFamily.Single("dotnet_gc_pause_seconds_total", MetricType.Counter,
            "Time the runtime was paused for garbage collection, in seconds.", GC.GetTotalPauseDuration().TotalSeconds));
        families.Add(MetricFamily.Single("dotnet_threadpool_threads", MetricType.Gauge,
            "Thread-pool threads that currently exist.", ThreadPool.ThreadCount));
        families.Add(MetricFamily.Single("dotnet_threadpool_queue_length", MetricType.Gauge,
            "Work items queued to the thread pool and not yet started.", ThreadPool.PendingWorkItemCount));
        families.Add(MetricFamily.Single("dotnet_threadpool_completed_items_total", MetricType.Counter,
            "Work items the thread pool has completed.", ThreadPool.CompletedWorkItemCount));
    }
}
