using S3Block.ObjectStore;
using S3Block.TestKit.Volume;

namespace S3Block.LocalStack.Tests;

/// <summary>The crash-consistency oracle with the volume on a real S3 server (fewer seeds than locally: every
/// commit is real HTTP).</summary>
public sealed class CrashConsistencyOnS3Tests(S3BucketFixture bucket, ITestOutputHelper output)
    : CrashConsistencyContract(output), IClassFixture<S3BucketFixture>
{
    public static TheoryData<CrashKind, int> S3Cases => Cases(seeds: 2);

    [Theory]
    [MemberData(nameof(S3Cases))]
    public Task The_recovered_disk_is_a_consistent_prefix_of_the_history(CrashKind kind, int seed) => RunAsync(kind, seed);

    protected override IObjectStore CreateStore() => S3TestSettings.ProductionStore(bucket.Bucket, $"crash-{Guid.NewGuid():N}/");
}
