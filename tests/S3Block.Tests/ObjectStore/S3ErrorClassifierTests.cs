using System.Net;
using S3Block.ObjectStore;
using S3Block.ObjectStore.S3;

namespace S3Block.Tests.ObjectStore;

public sealed class S3ErrorClassifierTests
{
    [Theory]
    [InlineData(404, "NoSuchKey", false, ObjectStoreErrorKind.NotFound)]
    [InlineData(404, null, false, ObjectStoreErrorKind.NotFound)]
    [InlineData(404, "NoSuchBucket", false, ObjectStoreErrorKind.Permanent)]
    [InlineData(412, "PreconditionFailed", true, ObjectStoreErrorKind.PreconditionFailed)]
    [InlineData(409, "ConditionalRequestConflict", true, ObjectStoreErrorKind.PreconditionFailed)]
    [InlineData(416, "InvalidRange", false, ObjectStoreErrorKind.InvalidRange)]
    [InlineData(500, "UnknownError", true, ObjectStoreErrorKind.PreconditionFailed)]
    [InlineData(500, "InternalError", false, ObjectStoreErrorKind.Transient)]
    [InlineData(503, "SlowDown", false, ObjectStoreErrorKind.Transient)]
    [InlineData(429, null, false, ObjectStoreErrorKind.Transient)]
    [InlineData(400, "RequestTimeout", false, ObjectStoreErrorKind.Transient)]
    [InlineData(403, "InvalidAccessKeyId", false, ObjectStoreErrorKind.Permanent)]
    [InlineData(403, "SignatureDoesNotMatch", false, ObjectStoreErrorKind.Permanent)]
    [InlineData(403, "ExpiredToken", false, ObjectStoreErrorKind.Transient)]
    [InlineData(400, "InvalidArgument", false, ObjectStoreErrorKind.Permanent)]
    [InlineData(400, "BadRequest", false, ObjectStoreErrorKind.Transient)] // no S3 error body: a garbled connection
    [InlineData(400, null, false, ObjectStoreErrorKind.Transient)]
    public void Status_and_code_map_to_the_right_kind(int status, string? code, bool conditionalPut, ObjectStoreErrorKind expected)
    {
        Assert.Equal(expected, S3ErrorClassifier.ClassifyStatus((HttpStatusCode)status, code, conditionalPut));
    }

    [Fact]
    public async Task A_garbled_response_from_the_http_connection_is_transient()
    {
        // Reproduce what RadosGW did once: a response whose status line is not HTTP, on a real socket.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync(TestContext.Current.CancellationToken);
            using var stream = client.GetStream();
            var buffer = new byte[4096];
            _ = await stream.ReadAsync(buffer, TestContext.Current.CancellationToken);
            await stream.WriteAsync("{\"not\": \"http\"}\r\n\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        }, TestContext.Current.CancellationToken);
        using var http = new HttpClient();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;

        var thrown = await Record.ExceptionAsync(() => http.GetAsync($"http://127.0.0.1:{port}/", TestContext.Current.CancellationToken));
        await server;

        Assert.NotNull(thrown);
        Assert.Equal(ObjectStoreErrorKind.Transient, S3ErrorClassifier.Classify(thrown, "GET", "k", conditionalPut: false).Kind);
    }

    [Fact]
    public void Connection_failures_are_transient()
    {
        var e = S3ErrorClassifier.Classify(new HttpRequestException("Connection refused"), "GET", "k", conditionalPut: false);

        Assert.Equal(ObjectStoreErrorKind.Transient, e.Kind);
    }
}
