using System.Text.Json;
using S3Block.ObjectStore;

namespace S3Block.Volume;

/// <summary>
/// The single-writer lease of one volume (docs/volume-format.md, "Single writer"): taken with a create-only or
/// compare-and-swap PUT, renewed by compare-and-swap, released by writing an expired record.
/// </summary>
public sealed class VolumeLease
{
    private readonly IObjectStore _store;
    private readonly VolumeKeys _keys;
    private readonly TimeProvider _time;
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
    /// Takes the lease with an epoch above both the lease's and <paramref name="minimumEpoch"/>. Refuses with
    /// <see cref="VolumeInUseException"/> while another node holds an unexpired lease, unless <paramref name="force"/>.
    /// </summary>
    public static async Task<VolumeLease> AcquireAsync(
        IObjectStore store, VolumeKeys keys, Guid node, TimeSpan ttl, long minimumEpoch, bool force, TimeProvider time, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = await store.TryGetAsync(keys.Lease, cancellationToken);
            var now = time.GetUtcNow();
            LeaseRecord? held = current is null ? null : Parse(current.Data);
            if (held is not null && held.OwnerNode != node && !held.IsExpired(now) && !force)
            {
                throw new VolumeInUseException(
                    $"volume '{keys.Name}' is in use by {held.Host} (pid {held.Pid}, epoch {held.Epoch}) until " +
                    $"{DateTimeOffset.FromUnixTimeMilliseconds(held.ExpiresAtUnixMs):u}; stop that daemon, wait for the lease to expire, or force a takeover");
            }

            var record = new LeaseRecord
            {
                OwnerNode = node,
                Host = Environment.MachineName,
                Pid = Environment.ProcessId,
                Epoch = Math.Max(held?.Epoch ?? 0, minimumEpoch) + 1,
                ExpiresAtUnixMs = (now + ttl).ToUnixTimeMilliseconds(),
            };
            var condition = current is null ? PutCondition.CreateOnly : PutCondition.IfMatch(current.ETag);
            try
            {
                var etag = await store.PutAsync(keys.Lease, Serialize(record), condition, cancellationToken);
                return new VolumeLease(store, keys, time, record, etag);
            }
            catch (ObjectStoreException e) when (e.Kind is ObjectStoreErrorKind.PreconditionFailed or ObjectStoreErrorKind.NotFound && attempt < 5)
            {
                // Someone changed the lease between our read and write: read it again and decide again.
            }
        }
    }

    /// <summary>Extends the lease; throws <see cref="VolumeFencedException"/> when someone else took it.</summary>
    public async Task RenewAsync(TimeSpan ttl, CancellationToken cancellationToken)
    {
        var renewed = Record with { ExpiresAtUnixMs = (_time.GetUtcNow() + ttl).ToUnixTimeMilliseconds() };
        await ReplaceAsync(renewed, cancellationToken);
    }

    /// <summary>Gives the lease up so another daemon may take it at once (the epoch stays for fencing).</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken) =>
        await ReplaceAsync(Record with { ExpiresAtUnixMs = 0 }, cancellationToken);

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
