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

    /// <summary>Whether another node may take the lease without force: released by a holder that recorded nothing
    /// missing from S3 (a drained stop), or by a version that did not record it (it released only after draining or a
    /// failed open). A lease that merely expired is never clean: its holder stopped renewing without telling, and may
    /// have acknowledged FLUSHes after its last renewal.</summary>
    [JsonIgnore]
    public bool IsReleasedClean => IsReleased && DataState is LeaseDataState.Clean or LeaseDataState.Unknown;

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
        var asOf = WrittenAtUnixMs == 0 ? "" : $" as of its last lease write at {Format(WrittenAtUnixMs)} ({Age(WrittenAtUnixMs)} ago)";
        var after = IsReleased ? ""
            : IsExpired(now) ? "; it stopped renewing without releasing the lease, so it may have acknowledged more FLUSHes after that"
            : "; it still holds the lease and may acknowledge more";
        return DataState switch
        {
            LeaseDataState.Dirty =>
                $"{holder} held {UnsyncedBytes} bytes of flushed data that is not in S3{asOf}: written after commit {CommittedThrough}, " +
                $"the oldest at {Format(UnsyncedSinceUnixMs)} ({Age(UnsyncedSinceUnixMs)} ago){after}",
            LeaseDataState.Opening =>
                $"{holder} was opening the volume at commit {CommittedThrough}{asOf}, replaying its local journal, which may hold flushed data " +
                "that is not in S3, of an amount it never recorded",
            LeaseDataState.Clean when IsReleased => $"{holder} released the volume with everything in S3",
            LeaseDataState.Clean => $"{holder} held no data missing from S3{asOf}{after}",
            _ => $"{holder} (an older S3Block that does not record it) may hold flushed data that is not in S3, of unknown amount and age",
        };

        string Age(long unixMs) => FormatAge(now - DateTimeOffset.FromUnixTimeMilliseconds(unixMs));
    }

    private static string Format(long unixMs) => $"{DateTimeOffset.FromUnixTimeMilliseconds(unixMs):u}";

    private static string FormatAge(TimeSpan age) =>
        age < TimeSpan.Zero ? "0 s" : age.TotalHours >= 1 ? $"{age.TotalHours:F1} h" : age.TotalMinutes >= 1 ? $"{age.TotalMinutes:F1} min" : $"{age.TotalSeconds:F0} s";
}
