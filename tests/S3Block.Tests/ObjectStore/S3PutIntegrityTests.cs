using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using S3Block.ObjectStore;
using S3Block.ObjectStore.S3;
using S3Block.TestKit;

namespace S3Block.Tests.ObjectStore;

/// <summary>
/// What a chunk PUT sends, seen by a stand-in HTTP endpoint: the body is protected by exactly one hash, the SigV4
/// payload signature (the store recomputes it and refuses a body damaged in transit), and no second hash of the same
/// bytes (Content-MD5) is computed.
/// </summary>
public sealed class S3PutIntegrityTests : IDisposable
{
    private readonly ConcurrentQueue<(string Method, Dictionary<string, string> Headers, byte[] Body)> _requests = new();
    private readonly StandInHttpEndpoint _endpoint;

    public S3PutIntegrityTests() => _endpoint = new StandInHttpEndpoint(StandInHttpEndpoint.FreePort(), RecordAsync);

    [Fact]
    public async Task A_put_signs_its_payload_and_sends_no_content_md5()
    {
        using var store = new S3ObjectStore(new S3StoreOptions
        {
            ServiceUrl = _endpoint.Url,
            Bucket = "bucket",
            AccessKey = "access",
            SecretKey = "secret",
            Region = "us-east-1",
        });
        var body = new byte[1 << 20];
        new Random(5).NextBytes(body);

        await store.PutAsync("chunks/1", body, PutCondition.None, TestContext.Current.CancellationToken);

        var (method, headers, sent) = Assert.Single(_requests);
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join("; ", headers.Select(h => $"{h.Key}: {h.Value}")));
        Assert.Equal("PUT", method);
        Assert.False(headers.ContainsKey("Content-MD5"), "Content-MD5 would hash the body a second time");
        Assert.True(headers.TryGetValue("x-amz-content-sha256", out var payloadHash), "no payload hash header");
        if (payloadHash.StartsWith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", StringComparison.Ordinal))
        {
            // aws-chunked: every chunk carries a signature over its SHA-256, and together they are the data.
            var chunks = DecodeAwsChunked(sent);
            Assert.All(chunks, c => Assert.Matches("^[0-9a-f]{64}$", c.Signature));
            Assert.Equal(body, chunks.SelectMany(c => c.Data).ToArray());
        }
        else
        {
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), payloadHash);
            Assert.Equal(body, sent);
        }

        Assert.Contains("x-amz-content-sha256", headers.GetValueOrDefault("Authorization", ""), StringComparison.Ordinal);
    }

    /// <summary>Splits an aws-chunked body (<c>HEX;chunk-signature=SIG\r\nDATA\r\n</c> ... a last chunk of size 0).</summary>
    private static List<(string Signature, byte[] Data)> DecodeAwsChunked(byte[] body)
    {
        var chunks = new List<(string, byte[])>();
        var at = 0;
        while (true)
        {
            var lineEnd = body.AsSpan(at).IndexOf("\r\n"u8);
            Assert.True(lineEnd > 0, $"no chunk header at {at}");
            var header = System.Text.Encoding.ASCII.GetString(body, at, lineEnd);
            var parts = header.Split(";chunk-signature=");
            Assert.Equal(2, parts.Length);
            var size = Convert.ToInt32(parts[0], 16);
            at += lineEnd + 2;
            if (size == 0)
            {
                return chunks;
            }

            chunks.Add((parts[1], body.AsSpan(at, size).ToArray()));
            at += size + 2;
        }
    }

    public void Dispose() => _endpoint.Dispose();

    /// <summary>Keeps the request and answers as S3 does to a PUT.</summary>
    private async Task RecordAsync(HttpListenerContext context)
    {
        using var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body);
        var headers = context.Request.Headers.AllKeys.OfType<string>()
            .ToDictionary(k => k, k => context.Request.Headers[k] ?? "", StringComparer.OrdinalIgnoreCase);
        _requests.Enqueue((context.Request.HttpMethod, headers, body.ToArray()));
        context.Response.StatusCode = 200;
        context.Response.AddHeader("ETag", "\"0123456789abcdef0123456789abcdef\"");
    }
}
