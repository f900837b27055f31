namespace S3Block.Ublk.Metrics;

/// <summary>The served block device (see <see cref="S3BlockMetrics.RegisterDevice"/>).</summary>
/// <param name="DevId">The ublk device id (<c>/dev/ublkbN</c>) [label <c>dev_id</c>].</param>
/// <param name="Volume">The volume name [label <c>volume</c>].</param>
/// <param name="ChunkBytes">The volume's chunk size [label <c>chunk_bytes</c>].</param>
/// <param name="SizeBytes">The device size [s3block_device_size_bytes].</param>
public sealed record DeviceSnapshot(int DevId, string Volume, long ChunkBytes, long SizeBytes);
