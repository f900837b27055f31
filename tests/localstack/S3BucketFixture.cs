using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace S3Block.LocalStack.Tests;

/// <summary>A bucket of its own for one test class, created on the configured S3 server and emptied and removed after.</summary>
public sealed class S3BucketFixture : IAsyncLifetime
{
    public string Bucket { get; } = $"s3block-test-{DateTime.UtcNow:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..8]}";

    public async ValueTask InitializeAsync()
    {
        using var client = Client();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = Bucket });
    }

    public async ValueTask DisposeAsync()
    {
        using var client = Client();
        string? token = null;
        do
        {
            var page = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, ContinuationToken = token });
            if (page.S3Objects is { Count: > 0 } objects)
            {
                await client.DeleteObjectsAsync(new DeleteObjectsRequest
                {
                    BucketName = Bucket,
                    Objects = objects.Select(o => new KeyVersion { Key = o.Key }).ToList(),
                });
            }

            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);

        await client.DeleteBucketAsync(Bucket);
    }

    /// <summary>A raw SDK client with the same settings the store uses (for setup only).</summary>
    public static AmazonS3Client Client()
    {
        var settings = S3TestSettings.For("unused");
        return new AmazonS3Client(new BasicAWSCredentials(settings.AccessKey, settings.SecretKey), new AmazonS3Config
        {
            ServiceURL = settings.ServiceUrl,
            AuthenticationRegion = settings.Region,
            ForcePathStyle = true,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });
    }
}
