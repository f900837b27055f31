using S3Block.Volume;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// Raises the thread pool's minimum so that the daemon's own blocking calls cannot starve it. Requests, uploads and
/// fetches run on pool threads and block there in file I/O: the journal's pwrite, the embedded store's write + fsync,
/// the cache's files (.NET's asynchronous file I/O on Linux is a blocking call on a pool thread). Up to the minimum the
/// pool adds a thread at once when work waits; above it, only about one per half second, and until then each FLUSH
/// completion queued behind blocked uploads waits too (measured on 2 cores: 4 KiB write + fdatasync QD 1 fell to
/// 1 IOPS once per commit; with a minimum of 64 its worst second kept 7 to 17).
/// </summary>
internal static class ThreadPoolReserve
{
    /// <summary>A heuristic: one thread per core for CPU work, plus the uploads, fetches and read-aheads the settings
    /// allow at once, plus two requests per queue in their (brief) journal write. Deeper bursts still get threads, at
    /// the pool's slower pace.</summary>
    public static int MinimumWorkers(VolumeOptions volume, DeviceSettings device) =>
        Environment.ProcessorCount + volume.MaxUploadsInFlight + volume.MaxFetchesInFlight + volume.ReadAheadChunks + (2 * device.Queues);

    /// <summary>Raises the pool's minimum worker count to <paramref name="workers"/> (never lowers it); returns the
    /// minimum in force afterwards.</summary>
    public static int Raise(int workers)
    {
        ThreadPool.GetMinThreads(out var current, out var completionPorts);
        if (workers > current)
        {
            ThreadPool.SetMinThreads(workers, completionPorts);
        }

        ThreadPool.GetMinThreads(out current, out _);
        return current;
    }
}
