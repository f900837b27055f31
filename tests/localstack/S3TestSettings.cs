using S3Block.ObjectStore;
using S3Block.ObjectStore.S3;

namespace S3Block.LocalStack.Tests;

/// <summary>
/// Where the integration tests find S3: <c>S3BLOCK_TEST_S3_ENDPOINT</c> and friends, defaulting to LocalStack's
/// conventions (path-style, <c>us-east-1</c>, credentials <c>test</c>/<c>test</c>). <c>scripts/test.sh</c> sets them
/// to a RadosGW it starts on loopback when none is given.
/// </summary>
internal static class S3TestSettings
{
    public static string Endpoint => Environment.GetEnvironmentVariable("S3BLOCK_TEST_S3_ENDPOINT") ?? "";

    public static string Region => Environment.GetEnvironmentVariable("S3BLOCK_TEST_S3_REGION") ?? "us-east-1";

    public static string AccessKey => Environment.GetEnvironmentVariable("S3BLOCK_TEST_S3_ACCESS_KEY") ?? "test";

    public static string SecretKey => Environment.GetEnvironmentVariable("S3BLOCK_TEST_S3_SECRET_KEY") ?? "test";

    /// <summary>The S3 store as the daemon builds it: wrapped in the transient-failure retry policy.</summary>
    public static IObjectStore ProductionStore(string bucket, string prefix) =>
        new RetryingObjectStore(new S3ObjectStore(For(bucket, prefix)), RetryPolicy.Default);

    /// <summary>Store options for <paramref name="bucket"/>; fails the test (never skips) when no endpoint is configured.</summary>
    public static S3StoreOptions For(string bucket, string prefix = "")
    {
        if (Endpoint.Length == 0)
        {
            Assert.Fail("No S3 endpoint configured: set S3BLOCK_TEST_S3_ENDPOINT (e.g. http://localhost:4566 for LocalStack), " +
                        "or run scripts/test.sh, which starts a RadosGW on loopback.");
        }

        return new S3StoreOptions
        {
            Bucket = bucket,
            Prefix = prefix,
            ServiceUrl = Endpoint,
            Region = Region,
            AccessKey = AccessKey,
            SecretKey = SecretKey,
            ForcePathStyle = true,
        };
    }
}
