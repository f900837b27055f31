using S3Block.TestKit;

namespace S3Block.LocalStack.Tests;

/// <summary>
/// <c>s3block store-check</c> against the real S3 server: it works when configured right, and every wrong setting
/// gives exit code 2 and one line naming the key.
/// </summary>
public sealed class StoreCheckCliTests(S3BucketFixture bucket) : IClassFixture<S3BucketFixture>
{
    [Fact]
    public async Task Store_check_passes_against_the_server()
    {
        var result = await S3BlockCli.RunAsync(["store-check"], S3Environment(bucket.Bucket));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("store-check: OK: s3://" + bucket.Bucket, result.Out, StringComparison.Ordinal);
        Assert.Contains("second create-only write refused", result.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Bucket", "s3block-missing-bucket", "Store:S3:Bucket: bucket 's3block-missing-bucket' does not exist")]
    [InlineData("AccessKey", "nobody", "Store:S3:AccessKey:")]
    [InlineData("SecretKey", "wrong", "Store:S3:SecretKey:")]
    [InlineData("ServiceUrl", "http://127.0.0.1:1", "Store:S3:ServiceUrl: cannot reach http://127.0.0.1:1")]
    [InlineData("Bucket", "", "Store:S3:Bucket: required")]
    [InlineData("Bucket", "Not_A_Bucket", "Store:S3:Bucket: 'Not_A_Bucket' is not a valid bucket name")]
    [InlineData("ServiceUrl", "ftp://x", "Store:S3:ServiceUrl: 'ftp://x' is not an http(s) URL")]
    public async Task A_wrong_setting_exits_2_with_one_line_naming_the_key(string key, string value, string expected)
    {
        var environment = S3Environment(bucket.Bucket);
        environment[$"S3BLOCK_Store__S3__{key}"] = value;

        var result = await S3BlockCli.RunAsync(["store-check"], environment);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("s3block: configuration error: " + expected, line, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> S3Environment(string bucketName)
    {
        var s3 = S3TestSettings.For(bucketName);
        return new Dictionary<string, string>
        {
            ["S3BLOCK_Store__Kind"] = "s3",
            ["S3BLOCK_Store__S3__Bucket"] = s3.Bucket,
            ["S3BLOCK_Store__S3__ServiceUrl"] = s3.ServiceUrl,
            ["S3BLOCK_Store__S3__Region"] = s3.Region,
            ["S3BLOCK_Store__S3__AccessKey"] = s3.AccessKey,
            ["S3BLOCK_Store__S3__SecretKey"] = s3.SecretKey,
        };
    }
}
