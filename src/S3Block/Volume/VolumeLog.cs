using Microsoft.Extensions.Logging;

namespace S3Block.Volume;

/// <summary>The volume's log events, source-generated, with stable event ids (1xxx).</summary>
internal static partial class VolumeLog
{
    [LoggerMessage(1001, LogLevel.Information,
        "Opened volume {Volume} ({Size} bytes, {Chunks} chunks in S3) at commit {Commit}, epoch {Epoch}; replayed {Records} journal records ({Dirty} bytes not yet in S3)",
        EventName = "VolumeOpened")]
    public static partial void Opened(ILogger logger, string volume, long size, int chunks, long commit, long epoch, int records, long dirty);

    [LoggerMessage(1002, LogLevel.Debug, "Published commit {Commit} of {Volume} covering journal sequence {Sequence}: {Changes} chunk changes", EventName = "CommitPublished")]
    public static partial void CommitPublished(ILogger logger, long commit, string volume, long sequence, int changes);

    [LoggerMessage(1003, LogLevel.Warning, "{Operation} on the store failed (attempt {Attempt}), retrying: {Error}", EventName = "StoreRetry")]
    public static partial void StoreRetry(ILogger logger, string operation, int attempt, string error);

    [LoggerMessage(1004, LogLevel.Warning, "Lease renewal of {Volume} failed, retrying in {Period}: {Error}", EventName = "LeaseRenewalFailed")]
    public static partial void LeaseRenewalFailed(ILogger logger, string volume, TimeSpan period, string error);

    [LoggerMessage(1005, LogLevel.Information, "Checkpoint {Commit} of {Volume}: {Chunks} chunks; dropped {Obsolete} old commit records", EventName = "CheckpointWritten")]
    public static partial void CheckpointWritten(ILogger logger, long commit, string volume, int chunks, int obsolete);

    [LoggerMessage(1006, LogLevel.Warning, "Deleting {Count} old objects of {Volume} failed, will retry: {Error}", EventName = "GarbageDeleteFailed")]
    public static partial void GarbageDeleteFailed(ILogger logger, int count, string volume, string error);

    [LoggerMessage(1008, LogLevel.Warning,
        "The local journal of {Volume} ends before journal sequence {Sequence}, which S3 already holds; it was moved to {Aside} and a new one started",
        EventName = "JournalBehindStore")]
    public static partial void JournalBehind(ILogger logger, string volume, long sequence, string aside);

    [LoggerMessage(1009, LogLevel.Warning,
        "The journal of {Volume} ended in a torn record ({Damage}): cut {Bytes} bytes; {Dropped} unsynced records after it were never acknowledged as durable",
        EventName = "JournalTornTail")]
    public static partial void JournalTornTail(ILogger logger, string volume, string damage, long bytes, long dropped);

    [LoggerMessage(1010, LogLevel.Critical, "The journal of {Volume} is corrupt ({Damage}) with {Durable} durable records after the damage; refusing to serve",
        EventName = "JournalCorrupt")]
    public static partial void JournalCorrupt(ILogger logger, string volume, string damage, long durable);

    [LoggerMessage(1011, LogLevel.Information, "Volume {Volume}: {Count} chunk objects are referenced by no commit and will be deleted", EventName = "SweepFound")]
    public static partial void SweepFound(ILogger logger, string volume, int count);

    [LoggerMessage(1012, LogLevel.Critical, "Volume {Volume}: {Statement}", EventName = "ForcedTakeover")]
    public static partial void ForcedTakeover(ILogger logger, string volume, string statement);

    [LoggerMessage(1007, LogLevel.Critical, "Volume {Volume} stopped accepting writes: {Reason}", EventName = "VolumeFaulted")]
    public static partial void Faulted(ILogger logger, Exception exception, string volume, string reason);
}
