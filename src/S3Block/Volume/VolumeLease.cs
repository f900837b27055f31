using System.Text.Json;
using S3Block.ObjectStore;

namespace S3Block.Volume;

/// <summary>
/// The single-writer lease of one volume (docs/volume-format.md, "Single writer"): taken with a create-only or
/// compare-and-swap PUT, renewed by compare-and-swap, released by writing an expired record.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The write gate's SemaphoreSlim never allocates a wait handle (only WaitAsync is used).")]
public sealed class VolumeLease
{
    private readonly IObjectStore _store;
    private readonly VolumeKeys _keys;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private string _etag;
    private volatile LeaseRecord _record;

    private VolumeLease(IObjectStore store, VolumeKeys keys, TimeProvider time, LeaseRecord record, string etag)
    {
        _store = store;
        _keys = keys;
        _time = time;
        _record = record;
        _etag = etag;
    }

    /// <summary>The lease as last written by this holder (renewed on the lease loop, read by the uploader).</summary>
    public LeaseRecord Record
    {
        get => _record;
        private set => _record = value;
    }

    public long Epoch => Record.Epoch;

    /// <summary>
    /// Takes the lease with an epoch above both the lease's and <paramref name="minimumEpoch"/>, with no expiry margin
    /// (tests and tools; the volume passes its configured margin).
    /// </summary>
    public static Task<VolumeLease> AcquireAsync(
        IObjectStore store, VolumeKeys keys, Guid node, TimeSpan ttl, long minimumEpoch, bool force, TimeProvider time, CancellationToken cancellationToken) =>
        AcquireAsync(store, keys, node, ttl, TimeSpan.Zero, minimumEpoch, 0, force, time, cancellationToken);

    /// <summary>
    /// Takes the lease with an epoch above both the lease's and <paramref name="minimumEpoch"/>. Another node's lease
    /// is taken without <paramref name="force"/> only when it was released clean (its holder drained everything to S3);
    /// a lease that merely expired (by this node's clock, plus <paramref name="expiryMargin"/> for clock skew) may
    /// belong to a holder that acknowledged FLUSHes it never uploaded. With force, <see cref="ForcedTakeover"/> says
    /// what that takeover may discard.
    /// </summary>
    /// <exception cref="VolumeInUseException">Another node holds the lease.</exception>
    /// <exception cref="VolumeHoldsUnsyncedDataException">Its holder let it expire, or released it with data not in S3.</exception>
    public static async Task<VolumeLease> AcquireAsync(
        IObjectStore store, VolumeKeys keys, Guid node, TimeSpan ttl, TimeSpan expiryMargin, long minimumEpoch, long committedThrough, bool force,
        TimeProvider time, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = await store.TryGetAsync(keys.Lease, cancellationToken);
            var now = time.GetUtcNow();
            LeaseRecord? held = current is null ? null : Parse(current.Data);
            string? forced = null;
            if (held is not null && held.OwnerNode != node)
            {
                var expired = held.IsExpired(now, expiryMargin);
                var mayDiscard = !held.IsReleasedClean;
                if (!expired && !force)
                {
                    throw new VolumeInUseException(
                        $"volume '{keys.Name}' is in use by {held.Host} (pid {held.Pid}, epoch {held.Epoch}) until " +
                        $"{DateTimeOffset.FromUnixTimeMilliseconds(held.ExpiresAtUnixMs):u}; stop that daemon, wait for the lease to expire, or force a takeover " +
                        $"(--force-takeover), which discards what it has not uploaded: {held.DescribeUnsyncedData(now)}");
                }

                if (mayDiscard && !force)
                {
                    throw new VolumeHoldsUnsyncedDataException(
                        $"volume '{keys.Name}' was not released clean: its last holder {held.DescribeUnsyncedData(now)}. Taking it over would discard that " +
                        $"data. Start S3Block for this volume on {held.Host} again so it uploads it (and stop it cleanly), or take over with " +
                        "--force-takeover to discard it.",
                        held);
                }

                if (force && mayDiscard)
                {
                    forced = $"forced takeover of volume '{keys.Name}' from {held.Host} (pid {held.Pid}, epoch {held.Epoch}" +
                             (expired ? ", lease expired" : $", lease valid until {DateTimeOffset.FromUnixTimeMilliseconds(held.ExpiresAtUnixMs):u}") + "): " +
                             $"DISCARDS what it had not uploaded: {held.DescribeUnsyncedData(now)}" +
                             "; its later writes are refused (fenced)";
                }
            }

            var record = new LeaseRecord
            {
                OwnerNode = node,
                Host = Environment.MachineName,
                Pid = Environment.ProcessId,
                Epoch = Math.Max(held?.Epoch ?? 0, minimumEpoch) + 1,
                ExpiresAtUnixMs = (now + ttl).ToUnixTimeMilliseconds(),
            }.With(LeaseDataReport.Opening(committedThrough), now);
            var condition = current is null ? PutCondition.CreateOnly : PutCondition.IfMatch(current.ETag);
            try
            {
                var etag = await store.PutAsync(keys.Lease, Serialize(record), condition, cancellationToken);
                return new VolumeLease(store, keys, time, record, etag) { ForcedTakeover = forced };
            }
            catch (ObjectStoreException e) when (e.Kind is ObjectStoreErrorKind.PreconditionFailed or ObjectStoreErrorKind.NotFound && attempt < 5)
            {
                // Someone changed the lease between our read and write: read it again and decide again.
            }
        }
    }

    /// <summary>Set when this lease was taken by force from another node: what that takeover discarded.</summary>
    public string? ForcedTakeover { get; private init; }

    /// <summary>Extends the lease, keeping what it says about unsynced data; throws <see cref="VolumeFencedException"/>
    /// when someone else took it.</summary>
    public Task RenewAsync(TimeSpan ttl, CancellationToken cancellationToken) =>
        UpdateAsync(ttl, () => Report, null, cancellationToken);

    /// <summary>
    /// Extends the lease and records what <paramref name="snapshot"/> reports (taken once the write's turn comes: lease
    /// writes are serialized, so the newest report is the one in the store); <paramref name="written"/> is told once it is.
    /// </summary>
    public async Task UpdateAsync(TimeSpan ttl, Func<LeaseDataReport> snapshot, Action<LeaseDataReport>? written, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            var report = snapshot();
            var now = _time.GetUtcNow();
            await ReplaceAsync(Record.With(report, now) with { ExpiresAtUnixMs = (now + ttl).ToUnixTimeMilliseconds() }, cancellationToken);
            written?.Invoke(report);
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>Gives the lease up (the epoch stays for fencing), keeping what it says about unsynced data: only a
    /// clean release lets another node take over without force.</summary>
    public Task ReleaseAsync(CancellationToken cancellationToken) => ReleaseAsync(Report, cancellationToken);

    /// <summary>Gives the lease up, recording <paramref name="report"/> (clean after a drain).</summary>
    public async Task ReleaseAsync(LeaseDataReport report, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            await ReplaceAsync(Record.With(report, _time.GetUtcNow()) with { ExpiresAtUnixMs = 0 }, cancellationToken);
        }
        finally
        {
            _writes.Release();
        }
    }

    private LeaseDataReport Report =>
        new(Record.DataState, Record.CommittedThrough, Record.UnsyncedBytes, Record.UnsyncedSinceUnixMs);

    /// <summary>Whether the lease in the store is still this holder's: same node, pid and epoch (any taker raises the
    /// epoch), whether or not it has expired meanwhile.</summary>
    public async Task<bool> IsStillOursAsync(CancellationToken cancellationToken)
    {
        var current = await _store.TryGetAsync(_keys.Lease, cancellationToken);
        return current is not null && IsOurs(Parse(current.Data));
    }

    /// <summary>Reads the lease without taking it (for status).</summary>
    public static async Task<LeaseRecord?> ReadAsync(IObjectStore store, VolumeKeys keys, CancellationToken cancellationToken)
    {
        var current = await store.TryGetAsync(keys.Lease, cancellationToken);
        return current is null ? null : Parse(current.Data);
    }

    private bool IsOurs(LeaseRecord record) =>
        record.OwnerNode == Record.OwnerNode && record.Pid == Record.Pid && record.Epoch == Record.Epoch && record.ExpiresAtUnixMs != 0;

    private async Task ReplaceAsync(LeaseRecord next, CancellationToken cancellationToken)
    {
        try
        {
            _etag = await _store.PutAsync(_keys.Lease, Serialize(next), PutCondition.IfMatch(_etag), cancellationToken);
            Record = next;
        }
        catch (ObjectStoreException e) when (e.Kind is ObjectStoreErrorKind.PreconditionFailed or ObjectStoreErrorKind.NotFound)
        {
            // A retried PUT may have won and then been told 412: if the lease holds exactly what we wrote, it is ours.
            var current = await _store.TryGetAsync(_keys.Lease, cancellationToken);
            if (current is not null && Parse(current.Data) == next)
            {
                _etag = current.ETag;
                Record = next;
                return;
            }

            // An earlier renewal whose answer was lost (S3 went away mid-request) may have landed: the record is still
            // ours if node, pid and epoch are, because any other taker raises the epoch. Build on it instead of
            // taking our own write for a takeover.
            if (current is not null && Parse(current.Data) is { } landed && IsOurs(landed))
            {
                _etag = await _store.PutAsync(_keys.Lease, Serialize(next), PutCondition.IfMatch(current.ETag), cancellationToken);
                Record = next;
                return;
            }

            var holder = current is null ? null : Parse(current.Data);
            throw new VolumeFencedException(
                $"lost the lease of volume '{_keys.Name}'" + (holder is null ? "" : $" to {holder.Host} (pid {holder.Pid}, epoch {holder.Epoch})"), e);
        }
    }

    private static byte[] Serialize(LeaseRecord record) => JsonSerializer.SerializeToUtf8Bytes(record, VolumeJsonContext.Default.LeaseRecord);

    private static LeaseRecord Parse(byte[] data)
    {
        try
        {
            return JsonSerializer.Deserialize(data, VolumeJsonContext.Default.LeaseRecord) ?? throw new InvalidDataException("empty lease");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException("the lease object is not valid JSON", e);
        }
    }
}
