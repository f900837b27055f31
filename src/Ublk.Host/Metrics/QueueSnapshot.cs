namespace S3Block.Ublk.Metrics;

/// <summary>One ublk queue (see <see cref="S3BlockMetrics.RegisterQueues"/>).</summary>
/// <param name="Queue">The queue id [label <c>queue</c>].</param>
/// <param name="InFlight">Requests the queue has handed to the backend and not completed [s3block_io_inflight].</param>
/// <param name="Depth">The queue's configured depth (tags) [s3block_io_queue_depth].</param>
public sealed record QueueSnapshot(int Queue, int InFlight, int Depth);
