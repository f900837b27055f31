using S3Block.ObjectStore;
using S3Block.ObjectStore.S3;
using S3Block.TestKit;

namespace S3Block.LocalStack.Tests;

/// <summary>The shared object-store contract, against a real S3 server over HTTP.</summary>
public sealed class S3ObjectStoreContractTests(S3BucketFixture bucket) : ObjectStoreContract, IClassFixture<S3BucketFixture>
{
    protected override IObjectStore CreateStore() =>
        new S3ObjectStore(S3TestSettings.For(bucket.Bucket, prefix: $"t-{Guid.NewGuid():N}/"));
}
