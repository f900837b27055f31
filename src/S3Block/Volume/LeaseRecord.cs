using System.Text.Json.Serialization;

namespace S3Block.Volume;

/// <summary>The content of <c>&lt;volume&gt;/lease</c>.</summary>
public sealed record LeaseRecord
{
    public required Guid OwnerNode { get; init; }

    public required string Host { get; init; }

    public required int Pid { get; init; }

    public required long Epoch { get; init; }

    /// <summary>Unix milliseconds after which others may take the lease (by their clock, plus the expiry margin);
    /// 0 once released.</summary>
    public required long ExpiresAtUnixMs { get; init; }

    /// <summary>Whether the holder may hold flushed data that S3 does not; absent (Unknown) in older leases.</summary>
    public LeaseDataState DataState { get; init; }

    /// <summary>The newest commit when this record was written: the holder's unsynced data is newer than it.</summary>
    public long CommittedThrough { get; init; }

    /// <summary>Bytes the holder had not uploaded when it wrote this record.</summary>
    public long UnsyncedBytes { get; init; }

    /// <summary>When the oldest of those bytes was written (Unix ms; 0 if none).</summary>
    public long UnsyncedSinceUnixMs { get; init; }

    /// <summary>When the holder wrote this record, by its clock (Unix ms; 0 in older leases).</summary>
    public long WrittenAtUnixMs { get; init; }

    [JsonIgnore]
    public bool IsReleased => ExpiresAtUnixMs == 0;

    /// <summary>Whether the holder may hold flushed data not in S3: anything but a clean record, except a release by
    /// a version that did not record the state (it released only after draining or a failed open).</summary>
    [JsonIgnore]
    public bool MayHoldUnsyncedData => DataState switch
    {
        LeaseDataState.Clean => false,
        LeaseDataState.Unknown => !IsReleased,
        _ => true,
    };

    public bool IsExpired(DateTimeOffset now) => ExpiresAtUnixMs <= now.ToUnixTimeMilliseconds();

    /// <summary>Expired for a node other than the holder: released, or past its expiry by more than
    /// <paramref name="margin"/> (the allowance for clock skew between nodes).</summary>
    public bool IsExpired(DateTimeOffset now, TimeSpan margin) =>
        IsReleased || ExpiresAtUnixMs + (long)margin.TotalMilliseconds <= now.ToUnixTimeMilliseconds();

    public LeaseRecord With(LeaseDataReport report, DateTimeOffset now) => this with
    {
        DataState = report.State,
        CommittedThrough = report.CommittedThrough,
        UnsyncedBytes = report.UnsyncedBytes,
        UnsyncedSinceUnixMs = report.UnsyncedSinceUnixMs,
        WrittenAtUnixMs = now.ToUnixTimeMilliseconds(),
    };

    /// <summary>The holder and what a takeover would discard, for refusals and the forced-takeover warning.</summary>
    public string DescribeUnsyncedData(DateTimeOffset now)
    {
        var holder = $"{Host} (pid {Pid}, node {OwnerNode}, epoch {Epoch})";
        var asOf = WrittenAtUnixMs == 0 ? "" : $", as of its lease write at {Format(WrittenAtUnixMs)} ({Age(WrittenAtUnixMs)} ago)";
        return DataState switch
        {
            LeaseDataState.Dirty =>
                $"{holder} may hold {UnsyncedBytes} bytes of flushed data that is not in S3: written after commit {CommittedThrough}, " +
                $"the oldest at {Format(UnsyncedSinceUnixMs)} ({Age(UnsyncedSinceUnixMs)} ago){asOf}",
            LeaseDataState.Opening =>
                $"{holder} was opening the volume at commit {CommittedThrough} (replaying its local journal){asOf}: its journal may hold flushed data " +
                "that is not in S3, of an amount it never recorded",
            LeaseDataState.Clean => $"{holder} held no data that is not in S3{asOf}",
            _ => $"{holder} (an older S3Block that does not record it) may hold flushed data that is not in S3, of unknown amount and age",
        };

        string Age(long unixMs) => FormatAge(now - DateTimeOffset.FromUnixTimeMilliseconds(unixMs));
    }

    private static string Format(long unixMs) => $"{DateTimeOffset.FromUnixTimeMilliseconds(unixMs):u}";

    private static string FormatAge(TimeSpan age) =>
        age < TimeSpan.Zero ? "0 s" : age.TotalHours >= 1 ? $"{age.TotalHours:F1} h" : age.TotalMinutes >= 1 ? $"{age.TotalMinutes:F1} min" : $"{age.TotalSeconds:F0} s";
}
