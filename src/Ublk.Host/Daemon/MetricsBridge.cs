using S3Block.Cache.Chunks;
using S3Block.Cache.Journal;
using Ublk.Server.Device;
using Ublk.Server.Interop;
using S3Block.Ublk.Metrics;
using S3Block.Volume;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// Feeds the metrics catalog from the running parts: snapshot delegates for the volume, journal, cache, lease and
/// device, and a request observer for every block request (called on the queue thread: no allocation, no lock).
/// </summary>
internal sealed class MetricsBridge(S3BlockMetrics metrics) : IUblkRequestObserver
{
    public void RequestCompleted(UblkIoOp op, long bytes, TimeSpan elapsed, UblkRequestOutcome outcome)
    {
        BlockOp? blockOp = op switch
        {
            UblkIoOp.Read => BlockOp.Read,
            UblkIoOp.Write => BlockOp.Write,
            UblkIoOp.Flush => BlockOp.Flush,
            UblkIoOp.Discard => BlockOp.Discard,
            UblkIoOp.WriteZeroes => BlockOp.WriteZeroes,
            _ => null,
        };
        if (blockOp is { } known)
        {
            var result = outcome switch
            {
                UblkRequestOutcome.Ok => IoResult.Ok,
                UblkRequestOutcome.Rejected => IoResult.Rejected,
                _ => IoResult.Error,
            };
            metrics.RecordIo(known, bytes, elapsed.TotalSeconds, result);
        }
    }

    public void Attach(S3Volume volume, ChunkCache cache, UblkDevice device)
    {
        metrics.RegisterVolume(() => ToSnapshot(volume.GetStatistics()));
        metrics.RegisterJournal(() => ToSnapshot(volume.Journal.GetStatistics()));
        metrics.RegisterCache(() => ToSnapshot(cache.GetStatistics()));
        metrics.RegisterLease(() => new LeaseSnapshot(volume.GetStatistics().Fault is null, volume.Epoch));
        metrics.RegisterDevice(() => new DeviceSnapshot(device.Info.DeviceId, volume.Descriptor.Name, volume.Descriptor.ChunkSizeBytes, volume.SizeBytes));
        metrics.RegisterQueues(() => device.QueueLoads().Select(q => new QueueSnapshot(q.Queue, q.InFlight, q.Depth)).ToList());
        metrics.RegisterIoFlusherFailures(() => IoFlusher.FailureCount);
    }

    public void Detach()
    {
        metrics.RegisterVolume(null);
        metrics.RegisterJournal(null);
        metrics.RegisterCache(null);
        metrics.RegisterLease(null);
        metrics.RegisterDevice(null);
        metrics.RegisterQueues(null);
    }

    private static VolumeSnapshot ToSnapshot(VolumeStatistics s) => new()
    {
        DirtyBytes = s.DirtyBytes,
        DirtyExtents = s.DirtyExtents,
        DirtyChunks = s.DirtyChunks,
        OldestDirtyAgeSeconds = s.OldestDirtyAge.TotalSeconds,
        LastCommitNumber = s.LastCommitNumber,
        LastCommitUnixSeconds = s.LastCommitTime?.ToUnixTimeMilliseconds() / 1000.0,
        CommitsPublished = s.CommitsPublished,
        ChunksUploaded = s.ChunksUploaded,
        BytesUploaded = s.BytesUploaded,
        ChunksZeroed = s.ChunksZeroed,
        ChunkFetches = s.ChunkFetches,
        ReadAheadFetches = s.ReadAheadFetches,
        ReadAheadJoins = s.ReadAheadJoins,
        UploadsYieldedToReads = s.UploadsYieldedToReads,
        BytesFetched = s.BytesFetched,
        StoreRetries = s.StoreRetries,
        CheckpointsWritten = s.CheckpointsWritten,
        GarbageDeleted = s.GarbageDeleted,
        GarbagePending = s.GarbagePending,
        Faulted = s.Fault is not null || s.JournalFault is not null,
    };

    private static JournalSnapshot ToSnapshot(JournalStatistics s) => new()
    {
        RecordsAppended = s.RecordsAppended,
        PayloadBytesAppended = s.PayloadBytesAppended,
        JournalBytesAppended = s.JournalBytesAppended,
        Syncs = s.Syncs,
        DurabilityWaits = s.DurabilityWaits,
        TotalSyncSeconds = s.TotalSyncTime.TotalSeconds,
        SyncLatencyUpperBounds = LatencyHistogram.UpperBoundsSeconds,
        SyncLatencyBuckets = s.SyncLatencyBuckets,
        DelayedAppends = s.DelayedAppends,
        AppendsWaitedForSpace = s.AppendsWaitedForSpace,
        TotalAppendDelaySeconds = s.TotalAppendDelay.TotalSeconds,
        AppendsWaitingForSpace = s.AppendsWaitingForSpace,
        UsedBytes = s.UsedBytes,
        CapacityBytes = s.CapacityBytes,
        SegmentCount = s.SegmentCount,
        ReplayDamageFound = s.ReplayDamageFound,
        DiskFullSeconds = s.DiskFullSince is { } since ? Math.Max(1e-3, (DateTimeOffset.UtcNow - since).TotalSeconds) : 0,
        DiskFullWaits = s.DiskFullWaits,
        SpareBytes = s.SpareBytes,
        SegmentsFromSpare = s.SegmentsFromSpare,
        SegmentsOnDemand = s.SegmentsOnDemand,
        SpareFailures = s.SpareFailures,
    };

    private static CacheSnapshot ToSnapshot(ChunkCacheStatistics s) => new()
    {
        MemoryHits = s.MemoryHits,
        DiskHits = s.DiskHits,
        Misses = s.Misses,
        MemoryEvictions = s.MemoryEvictions,
        DiskEvictions = s.DiskEvictions,
        MemoryBytes = s.MemoryBytes,
        MemoryEntries = s.MemoryEntries,
        DiskBytes = s.DiskBytes,
        DiskEntries = s.DiskEntries,
        CorruptEntries = s.CorruptEntries,
        DiskBytesRead = s.DiskBytesRead,
        DiskBytesWritten = s.DiskBytesWritten,
        DiskPutsSkipped = s.DiskPutsSkipped,
        DiskWriteErrors = s.DiskWriteErrors,
        MemoryBudgetBytes = s.MemoryBudgetBytes,
        DiskBudgetBytes = s.DiskBudgetBytes,
    };
}
