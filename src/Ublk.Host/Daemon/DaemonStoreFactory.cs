using S3Block.ObjectStore;
using S3Block.Ublk.Metrics;

namespace S3Block.Ublk.Daemon;

/// <summary>
/// Builds the daemon's object store, metered: <see cref="MeteredObjectStore"/> sits under the retry layer, so every
/// attempt (what the S3 server sees) is counted by operation and outcome with its latency, and the retry layer reports
/// each retry where it decides it.
/// </summary>
internal sealed class DaemonStoreFactory(StoreOptions options, S3BlockMetrics metrics)
{
    /// <summary>The store the daemon serves its volume from; the caller owns (disposes) it.</summary>
    public IObjectStore Create() => Create(RetryPolicy.Default, bare => bare);

    /// <summary>As <see cref="Create()"/>, with another policy and a wrapper around the bare store (tests inject failures).</summary>
    internal IObjectStore Create(RetryPolicy retryPolicy, Func<IObjectStore, IObjectStore> wrapBare) =>
        ObjectStoreFactory.Create(options, retryPolicy, metrics.RecordS3Retry, bare => new MeteredObjectStore(wrapBare(bare), metrics));
}
