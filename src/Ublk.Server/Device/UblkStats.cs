namespace Ublk.Server.Device;

/// <summary>
/// Per-device request counters, updated lock-free by queue threads (requests) and thread-pool threads (failures).
/// Cheap to read at any time; the lead exports them as metrics.
/// </summary>
public sealed class UblkStats
{
    private long _reads;
    private long _readBytes;
    private long _writes;
    private long _writeBytes;
    private long _fuaWrites;
    private long _flushes;
    private long _discards;
    private long _discardBytes;
    private long _writeZeroes;
    private long _writeZeroesBytes;
    private long _failed;
    private long _rejected;
    private long _inline;

    public long Reads => Volatile.Read(ref _reads);

    public long ReadBytes => Volatile.Read(ref _readBytes);

    public long Writes => Volatile.Read(ref _writes);

    public long WriteBytes => Volatile.Read(ref _writeBytes);

    /// <summary>Writes that carried REQ_FUA (also counted in <see cref="Writes"/>).</summary>
    public long FuaWrites => Volatile.Read(ref _fuaWrites);

    public long Flushes => Volatile.Read(ref _flushes);

    public long Discards => Volatile.Read(ref _discards);

    public long DiscardBytes => Volatile.Read(ref _discardBytes);

    public long WriteZeroes => Volatile.Read(ref _writeZeroes);

    public long WriteZeroesBytes => Volatile.Read(ref _writeZeroesBytes);

    /// <summary>Requests the backend failed (completed with a negative errno).</summary>
    public long Failed => Volatile.Read(ref _failed);

    /// <summary>Requests refused before reaching the backend (unknown op, out of range, too large).</summary>
    public long Rejected => Volatile.Read(ref _rejected);

    /// <summary>Requests the queue thread ran itself (a backend that completes inline), not on the thread pool.</summary>
    public long Inline => Volatile.Read(ref _inline);

    internal void CountRead(long bytes)
    {
        Interlocked.Increment(ref _reads);
        Interlocked.Add(ref _readBytes, bytes);
    }

    internal void CountWrite(long bytes, bool fua)
    {
        Interlocked.Increment(ref _writes);
        Interlocked.Add(ref _writeBytes, bytes);
        if (fua)
        {
            Interlocked.Increment(ref _fuaWrites);
        }
    }

    internal void CountFlush() => Interlocked.Increment(ref _flushes);

    internal void CountDiscard(long bytes)
    {
        Interlocked.Increment(ref _discards);
        Interlocked.Add(ref _discardBytes, bytes);
    }

    internal void CountWriteZeroes(long bytes)
    {
        Interlocked.Increment(ref _writeZeroes);
        Interlocked.Add(ref _writeZeroesBytes, bytes);
    }

    internal void CountFailed() => Interlocked.Increment(ref _failed);

    internal void CountRejected() => Interlocked.Increment(ref _rejected);

    internal void CountInline() => Interlocked.Increment(ref _inline);

    public override string ToString() =>
        $"reads {Reads} ({ReadBytes} B), writes {Writes} ({WriteBytes} B, {FuaWrites} FUA), flushes {Flushes}, " +
        $"discards {Discards} ({DiscardBytes} B), write-zeroes {WriteZeroes} ({WriteZeroesBytes} B), failed {Failed}, rejected {Rejected}, inline {Inline}";
}
