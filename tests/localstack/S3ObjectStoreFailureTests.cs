using System.Net;
using System.Net.Sockets;
using S3Block.ObjectStore;
using S3Block.ObjectStore.S3;
using S3Block.TestKit;

namespace S3Block.LocalStack.Tests;

/// <summary>How the S3 store classifies what goes wrong, against the real server (and dead sockets on loopback).</summary>
public sealed class S3ObjectStoreFailureTests(S3BucketFixture bucket) : IClassFixture<S3BucketFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_unknown_access_key_is_a_permanent_error()
    {
        var options = S3TestSettings.For(bucket.Bucket);
        options.AccessKey = "no-such-key";
        using var store = new S3ObjectStore(options);

        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.PutAsync("k", "x"u8.ToArray(), PutCondition.None, Ct));

        Assert.Equal(ObjectStoreErrorKind.Permanent, e.Kind);
        Assert.Equal("InvalidAccessKeyId", e.ErrorCode);
    }

    [Fact]
    public async Task A_wrong_secret_is_a_permanent_error()
    {
        var options = S3TestSettings.For(bucket.Bucket);
        options.SecretKey = "wrong-secret";
        using var store = new S3ObjectStore(options);

        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.HeadAsync("k", Ct));

        Assert.Equal(ObjectStoreErrorKind.Permanent, e.Kind);
    }

    [Fact]
    public async Task A_missing_bucket_is_a_permanent_error_not_a_missing_key()
    {
        using var store = new S3ObjectStore(S3TestSettings.For("s3block-no-such-bucket-" + Guid.NewGuid().ToString("N")[..8]));

        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.GetAsync("k", null, Ct));

        Assert.Equal(ObjectStoreErrorKind.Permanent, e.Kind);
        Assert.Equal("NoSuchBucket", e.ErrorCode);
    }

    [Fact]
    public async Task A_refused_connection_is_transient()
    {
        var options = S3TestSettings.For(bucket.Bucket);
        options.ServiceUrl = $"http://127.0.0.1:{StandInHttpEndpoint.FreePort()}";
        using var store = new S3ObjectStore(options);

        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.GetAsync("k", null, Ct));

        Assert.Equal(ObjectStoreErrorKind.Transient, e.Kind);
        Assert.Equal("NetworkError", e.ErrorCode);
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out_as_transient()
    {
        using var blackhole = new TcpListener(IPAddress.Loopback, 0);
        blackhole.Start();
        var options = S3TestSettings.For(bucket.Bucket);
        options.ServiceUrl = $"http://127.0.0.1:{((IPEndPoint)blackhole.LocalEndpoint).Port}";
        options.RequestTimeout = TimeSpan.FromMilliseconds(500);
        using var store = new S3ObjectStore(options);

        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => store.GetAsync("k", null, Ct));

        Assert.Equal(ObjectStoreErrorKind.Transient, e.Kind);
    }

    [Fact]
    public async Task Cancelling_a_request_in_flight_ends_it_promptly()
    {
        using var blackhole = new TcpListener(IPAddress.Loopback, 0);
        blackhole.Start();
        var options = S3TestSettings.For(bucket.Bucket);
        options.ServiceUrl = $"http://127.0.0.1:{((IPEndPoint)blackhole.LocalEndpoint).Port}";
        using var store = new S3ObjectStore(options);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(300));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.PutAsync("k", new byte[1 << 20], PutCondition.None, cancel.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"cancellation took {clock.Elapsed}");
    }

    [Fact]
    public async Task The_prefix_isolates_stores_sharing_a_bucket()
    {
        using var a = new S3ObjectStore(S3TestSettings.For(bucket.Bucket, "iso-a/"));
        using var b = new S3ObjectStore(S3TestSettings.For(bucket.Bucket, "iso-b/"));
        await a.PutAsync("same-key", "from a"u8.ToArray(), PutCondition.None, Ct);

        var e = await Assert.ThrowsAsync<ObjectStoreException>(() => b.GetAsync("same-key", null, Ct));

        Assert.Equal(ObjectStoreErrorKind.NotFound, e.Kind);
        Assert.Equal(["same-key"], await a.ListAllAsync("", Ct).Select(o => o.Key).ToListAsync(Ct));
    }
}
