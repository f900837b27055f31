using S3Block.ObjectStore;
using S3Block.ObjectStore.Local;
using S3Block.TestKit;

namespace S3Block.Tests.ObjectStore;

public sealed class RetryingObjectStoreTests : IDisposable
{
    private readonly TempFolder _folder = new("store");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly RetryPolicy Fast = new(4, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(5));

    [Fact]
    public async Task Transient_failures_are_retried_until_success_and_reported()
    {
        using var flaky = new FlakyStore(new LocalDirectoryObjectStore(_folder.Path), failures: 2, ObjectStoreErrorKind.Transient);
        var retries = new List<string>();
        using var store = new RetryingObjectStore(flaky, Fast, (op, _) => retries.Add(op));

        await store.PutAsync("k", "x"u8.ToArray(), PutCondition.None, Ct);

        Assert.Equal(3, flaky.Calls);
        Assert.Equal(["PUT", "PUT"], retries);
    }

    [Fact]
    public async Task Retries_stop_after_the_last_attempt_with_the_last_error()
    {
        using var flaky = new FlakyStore(new LocalDirectoryObjectStore(_folder.Path), failures: 100, ObjectStoreErrorKind.Transient);
        using var store = new RetryingObjectStore(flaky, Fast);

        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.HeadAsync("k", Ct));

        Assert.Equal(ObjectStoreErrorKind.Transient, e.Kind);
        Assert.Equal(4, flaky.Calls);
    }

    [Theory]
    [InlineData(ObjectStoreErrorKind.Permanent)]
    [InlineData(ObjectStoreErrorKind.PreconditionFailed)]
    [InlineData(ObjectStoreErrorKind.NotFound)]
    public async Task Non_transient_failures_are_not_retried(ObjectStoreErrorKind kind)
    {
        using var flaky = new FlakyStore(new LocalDirectoryObjectStore(_folder.Path), failures: 1, kind);
        using var store = new RetryingObjectStore(flaky, Fast);

        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("k", "x"u8.ToArray(), PutCondition.CreateOnly, Ct));

        Assert.Equal(kind, e.Kind);
        Assert.Equal(1, flaky.Calls);
    }

    [Fact]
    public void Backoff_is_capped_and_grows()
    {
        var policy = new RetryPolicy(10, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));
        var alwaysMax = new MaxRandom();

        Assert.Equal(100, policy.DelayAfter(1, alwaysMax).TotalMilliseconds, 1);
        Assert.Equal(400, policy.DelayAfter(3, alwaysMax).TotalMilliseconds, 1);
        Assert.Equal(1000, policy.DelayAfter(9, alwaysMax).TotalMilliseconds, 1);
        Assert.InRange(policy.DelayAfter(2, new Random(1)).TotalMilliseconds, 0, 200);
    }

    public void Dispose() => _folder.Dispose();

    private sealed class MaxRandom : Random
    {
        public override double NextDouble() => 1.0;
    }
}
