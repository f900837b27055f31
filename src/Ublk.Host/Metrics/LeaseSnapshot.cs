namespace S3Block.Ublk.Metrics;

/// <summary>The volume lease as this daemon sees it (see <see cref="S3BlockMetrics.RegisterLease"/>).</summary>
/// <param name="Held">True while this daemon holds the lease (not fenced, not released) [s3block_lease_held].</param>
/// <param name="Epoch">The lease epoch [s3block_lease_epoch].</param>
/// <param name="ExpiresAtUnixSeconds">When the lease expires unless renewed (Unix seconds), or null
/// [s3block_lease_expiry_timestamp_seconds].</param>
public sealed record LeaseSnapshot(bool Held, long Epoch, double? ExpiresAtUnixSeconds = null);
