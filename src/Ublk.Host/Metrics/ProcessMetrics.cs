using System.Diagnostics;

namespace S3Block.Ublk.Metrics;

/// <summary>
/// The standard <c>process_*</c> metrics every Prometheus client library exports (names as in client_golang's
/// process collector), read from <c>/proc/self</c> at scrape time. A value that cannot be read is left out.
/// </summary>
public sealed class ProcessMetrics : IMetricSource
{
    private readonly double _startTimeSeconds;

    /// <summary>Reads the process start time once.</summary>
    public ProcessMetrics()
    {
        using var self = Process.GetCurrentProcess();
        _startTimeSeconds = new DateTimeOffset(self.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0;
    }

    /// <inheritdoc/>
    public void Collect(ICollection<MetricFamily> families)
    {
        families.Add(MetricFamily.Single("process_cpu_seconds_total", MetricType.Counter,
            "Total user and system CPU time spent in seconds.", Environment.CpuUsage.TotalTime.TotalSeconds));
        families.Add(MetricFamily.Single("process_start_time_seconds", MetricType.Gauge,
            "Start time of the process since unix epoch in seconds.", _startTimeSeconds));

        var pageSize = Environment.SystemPageSize;
        var statm = ProcFs.TryRead("/proc/self/statm") is { } statmText ? ProcFs.ParseStatm(statmText) : null;
        families.Add(MetricFamily.Single("process_resident_memory_bytes", MetricType.Gauge,
            "Resident memory size in bytes.", statm is { } s ? s.ResidentPages * (double)pageSize : Environment.WorkingSet));
        if (statm is { } m)
        {
            families.Add(MetricFamily.Single("process_virtual_memory_bytes", MetricType.Gauge,
                "Virtual memory size in bytes.", m.VirtualPages * (double)pageSize));
        }

        if (ProcFs.CountOpenFds() is { } fds)
        {
            families.Add(MetricFamily.Single("process_open_fds", MetricType.Gauge, "Number of open file descriptors.", fds));
        }

        if (ProcFs.TryRead("/proc/self/limits") is { } limits && ProcFs.ParseMaxOpenFiles(limits) is { } maxFds)
        {
            families.Add(MetricFamily.Single("process_max_fds", MetricType.Gauge,
                "Maximum number of open file descriptors.", maxFds));
        }

        if (ProcFs.TryRead("/proc/self/stat") is { } stat && ProcFs.ParseThreadCount(stat) is { } threads)
        {
            families.Add(MetricFamily.Single("process_threads", MetricType.Gauge, "Number of OS threads in the process.", threads));
        }
    }
}
