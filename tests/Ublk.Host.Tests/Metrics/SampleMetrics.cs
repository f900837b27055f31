using S3Block.Ublk.Metrics;

namespace S3Block.Ublk.Tests.Metrics;

/// <summary>
/// A catalog on a registry of its own (so parallel tests never see each other's series), and sample
/// values for every snapshot source and hot-path instrument, so that a scrape shows every metric the daemon exports.
/// </summary>
public sealed class SampleMetrics : IDisposable
{
    public SampleMetrics(bool populate = true, TimeProvider? time = null, bool includeProcessMetrics = true)
    {
        Metrics = new S3BlockMetrics("1.2.3-test", time, includeProcessMetrics);
        if (populate)
        {
            Populate(Metrics);
        }
    }

    public S3BlockMetrics Metrics { get; }

    public static VolumeSnapshot Volume { get; } = new()
    {
        DirtyBytes = 12 << 20,
        DirtyExtents = 30,
        DirtyChunks = 3,
        OldestDirtyAgeSeconds = 4.5,
        LastCommitNumber = 41,
        LastCommitUnixSeconds = 1_700_000_000.25,
        CommitsPublished = 41,
        ChunksUploaded = 100,
        BytesUploaded = 400L << 20,
        ChunksZeroed = 2,
        ChunkFetches = 7,
        ReadAheadFetches = 5,
        ReadAheadJoins = 2,
        BytesFetched = 28L << 20,
        StoreRetries = 1,
        CheckpointsWritten = 1,
        GarbageDeleted = 9,
        GarbagePending = 4,
        Faulted = false,
    };

    public static JournalSnapshot Journal { get; } = new()
    {
        RecordsAppended = 1000,
        PayloadBytesAppended = 4_096_000,
        JournalBytesAppended = 4_200_000,
        Syncs = 50,
        DurabilityWaits = 20,
        TotalSyncSeconds = 0.25,
        SyncLatencyUpperBounds = [0.001, 0.002, 0.004],
        SyncLatencyBuckets = [10, 30, 9, 1],
        DelayedAppends = 3,
        AppendsWaitedForSpace = 1,
        TotalAppendDelaySeconds = 0.5,
        AppendsWaitingForSpace = 0,
        UsedBytes = 256L << 20,
        CapacityBytes = 1L << 30,
        SegmentCount = 4,
        ReplayDamageFound = 0,
    };

    public static CacheSnapshot Cache { get; } = new()
    {
        MemoryHits = 80,
        DiskHits = 15,
        Misses = 5,
        MemoryEvictions = 2,
        DiskEvictions = 1,
        MemoryBytes = 64L << 20,
        MemoryEntries = 16,
        DiskBytes = 1L << 30,
        DiskEntries = 256,
        MemoryBudgetBytes = 256L << 20,
        DiskBudgetBytes = 10L << 30,
        CorruptEntries = 0,
        DiskBytesRead = 123_456,
        DiskBytesWritten = 654_321,
        DiskPutsSkipped = 1,
        DiskWriteErrors = 0,
    };

    public static void Populate(S3BlockMetrics metrics)
    {
        metrics.RegisterVolume(() => Volume);
        metrics.RegisterJournal(() => Journal);
        metrics.RegisterCache(() => Cache);
        metrics.RegisterLease(() => new LeaseSnapshot(Held: true, Epoch: 7, ExpiresAtUnixSeconds: 1_700_000_030));
        metrics.RegisterQueues(() => [new QueueSnapshot(0, 3, 128), new QueueSnapshot(1, 0, 128)]);
        metrics.RegisterDevice(() => new DeviceSnapshot(DevId: 3, Volume: "vol\"1", ChunkBytes: 4 << 20, SizeBytes: 1L << 40));
        metrics.RegisterIoFlusherFailures(() => 0);
        foreach (var op in BlockOpLabels.All)
        {
            metrics.RecordIo(op, op == BlockOp.Flush ? 0 : 4096, 0.0003, IoResult.Ok);
        }

        metrics.RecordIo(BlockOp.Write, 4096, 0.002, ok: false);
        metrics.RecordIo(BlockOp.Read, 1 << 30, 0, IoResult.Rejected);
        metrics.RecordS3Request(S3Operation.Put, S3Outcome.Ok, 0.05, bytesSent: 4 << 20);
        metrics.RecordS3Request(S3Operation.Get, S3Outcome.Ok, 0.02, bytesReceived: 4 << 20);
        metrics.RecordS3Request(S3Operation.Get, S3Outcome.TransientError, 1.5);
        metrics.RecordS3Retry(S3Operation.Get);
    }

    public string Scrape() => Metrics.ScrapeAsync().GetAwaiter().GetResult();

    public void Dispose() => Metrics.Dispose();
}
