using System.Globalization;
using System.Runtime.InteropServices;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace S3Block.ObjectStore.S3;

/// <summary><see cref="IObjectStore"/> over AWSSDK.S3, for AWS and S3-compatible stores (RadosGW, LocalStack).</summary>
/// <remarks>
/// <para>The SDK's own retries are off (<c>MaxErrorRetry = 0</c>): <see cref="RetryingObjectStore"/> owns the policy,
/// so a conditional write is never retried blindly and every retry is counted.</para>
/// <para>A PUT's body is hashed once, by SigV4 payload signing (the SDK's default, which this class never turns off):
/// the store recomputes the SHA-256 and refuses a body damaged in transit. A Content-MD5 on top would hash the same
/// 4 MiB a second time for no extra protection (issue 12: one checksum per PUT).</para>
/// <para>At most <see cref="S3StoreOptions.MaxConcurrentRequests"/> requests are in flight.</para>
/// </remarks>
public sealed class S3ObjectStore : IObjectStore
{
    private readonly AmazonS3Client _client;
    private readonly S3StoreOptions _options;
    private readonly SemaphoreSlim _concurrency;

    public S3ObjectStore(S3StoreOptions options)
    {
        var problems = options.Validate("Store:S3").ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(options));
        }

        _options = options;
        _concurrency = new SemaphoreSlim(options.MaxConcurrentRequests, options.MaxConcurrentRequests);
        var config = new AmazonS3Config
        {
            MaxErrorRetry = 0,
            Timeout = options.RequestTimeout,
            MaxConnectionsPerServer = options.MaxConcurrentRequests,
            RequestChecksumCalculation = options.ChecksumMode == S3ChecksumMode.WhenSupported
                ? RequestChecksumCalculation.WHEN_SUPPORTED : RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = options.ChecksumMode == S3ChecksumMode.WhenSupported
                ? ResponseChecksumValidation.WHEN_SUPPORTED : ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUrl.Length > 0)
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
            config.ForcePathStyle = options.ForcePathStyle ?? true;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
            config.ForcePathStyle = options.ForcePathStyle ?? false;
        }

        _client = options.AccessKey.Length > 0
            ? new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
            : new AmazonS3Client(config);
    }

    public string Location =>
        $"s3://{_options.Bucket}/{_options.Prefix}" + (_options.ServiceUrl.Length > 0 ? $" ({_options.ServiceUrl})" : "");

    public Task<ObjectContent> GetAsync(string key, ByteRange? range, CancellationToken cancellationToken) =>
        CallAsync("GET", key, async ct =>
        {
            var request = new GetObjectRequest { BucketName = _options.Bucket, Key = FullKey(key) };
            if (range is { } r)
            {
                request.ByteRange = new Amazon.S3.Model.ByteRange(r.Offset, r.LastInclusive);
            }

            using var response = await _client.GetObjectAsync(request, ct);
            var data = GC.AllocateUninitializedArray<byte>(checked((int)response.ContentLength));
            await response.ResponseStream.ReadExactlyAsync(data, ct);
            var size = range is null ? response.ContentLength : SizeFromContentRange(response.ContentRange, response.ContentLength);
            return new ObjectContent(data, Unquote(response.ETag), size);
        }, cancellationToken);

    public Task<ObjectInfo> HeadAsync(string key, CancellationToken cancellationToken) =>
        CallAsync("HEAD", key, async ct =>
        {
            var response = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _options.Bucket, Key = FullKey(key) }, ct);
            return new ObjectInfo(key, response.ContentLength, Unquote(response.ETag), ToOffset(response.LastModified));
        }, cancellationToken);

    public Task<string> PutAsync(string key, ReadOnlyMemory<byte> content, PutCondition condition, CancellationToken cancellationToken) =>
        CallAsync("PUT", key, async ct =>
        {
            var bytes = MemoryMarshal.TryGetArray(content, out var segment) ? segment : new ArraySegment<byte>(content.ToArray());
            using var stream = new MemoryStream(bytes.Array!, bytes.Offset, bytes.Count, writable: false);
            var request = new PutObjectRequest
            {
                BucketName = _options.Bucket,
                Key = FullKey(key),
                InputStream = stream,
                AutoCloseStream = false,
            };
            switch (condition.Kind)
            {
                case PutConditionKind.CreateOnly:
                    request.IfNoneMatch = "*";
                    break;
                case PutConditionKind.IfMatch:
                    request.IfMatch = _options.QuoteIfMatchETag ? $"\"{condition.ETag}\"" : condition.ETag;
                    break;
            }

            var response = await _client.PutObjectAsync(request, ct);
            return Unquote(response.ETag);
        }, cancellationToken, conditionalPut: condition.Kind != PutConditionKind.None);

    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        CallAsync("DELETE", key, async ct =>
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _options.Bucket, Key = FullKey(key) }, ct);
            return true;
        }, cancellationToken);

    public Task<IReadOnlyList<DeleteFailure>> DeleteManyAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count > IObjectStore.MaxDeleteBatch)
        {
            throw new ArgumentException($"at most {IObjectStore.MaxDeleteBatch} keys per batch", nameof(keys));
        }

        if (keys.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<DeleteFailure>>([]);
        }

        return CallAsync<IReadOnlyList<DeleteFailure>>("DELETE-MANY", "", async ct =>
        {
            var request = new DeleteObjectsRequest
            {
                BucketName = _options.Bucket,
                Quiet = true,
                Objects = keys.Select(k => new KeyVersion { Key = FullKey(k) }).ToList(),
            };
            var response = await _client.DeleteObjectsAsync(request, ct);
            return (response.DeleteErrors ?? [])
                .Select(e => new DeleteFailure(StripPrefix(e.Key), e.Code ?? "", e.Message ?? ""))
                .ToList();
        }, cancellationToken);
    }

    public Task<ListPage> ListPageAsync(string prefix, string? continuationToken, int maxKeys, CancellationToken cancellationToken) =>
        CallAsync("LIST", prefix, async ct =>
        {
            var response = await _client.ListObjectsV2Async(new ListObjectsV2Request
            {
                BucketName = _options.Bucket,
                Prefix = FullKey(prefix),
                ContinuationToken = continuationToken,
                MaxKeys = Math.Min(maxKeys, IObjectStore.MaxListPage),
            }, ct);
            var objects = (response.S3Objects ?? [])
                .Select(o => new ObjectInfo(StripPrefix(o.Key), o.Size ?? 0, Unquote(o.ETag), ToOffset(o.LastModified)))
                .ToList();
            return new ListPage(objects, response.IsTruncated == true ? response.NextContinuationToken : null);
        }, cancellationToken);

    public void Dispose()
    {
        _client.Dispose();
        _concurrency.Dispose();
    }

    private async Task<T> CallAsync<T>(string operation, string key, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken, bool conditionalPut = false)
    {
        await _concurrency.WaitAsync(cancellationToken);
        try
        {
            return await call(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is not ObjectStoreException)
        {
            throw S3ErrorClassifier.Classify(e, operation, key, conditionalPut);
        }
        finally
        {
            _concurrency.Release();
        }
    }

    private string FullKey(string key) => _options.Prefix + key;

    private string StripPrefix(string fullKey) =>
        fullKey.StartsWith(_options.Prefix, StringComparison.Ordinal) ? fullKey[_options.Prefix.Length..] : fullKey;

    private static string Unquote(string? etag) => (etag ?? "").Trim('"');

    private static DateTimeOffset ToOffset(DateTime? time) =>
        time is { } t ? new DateTimeOffset(t.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.MinValue;

    private static long SizeFromContentRange(string? contentRange, long fallback)
    {
        // "bytes 0-9/100": the total follows the slash.
        var slash = contentRange?.LastIndexOf('/') ?? -1;
        return slash >= 0 && long.TryParse(contentRange.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var total)
            ? total : fallback;
    }
}
