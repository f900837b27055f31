using S3Block.TestKit;

namespace S3Block.Tests.Cli;

/// <summary><c>s3block store-check</c> with the embedded local store, and configuration errors that need no server.</summary>
public sealed class StoreCheckCliTests : IDisposable
{
    private readonly TempFolder _folder = new("cli");

    [Fact]
    public async Task Store_check_passes_on_the_embedded_local_store()
    {
        var result = await S3BlockCli.RunAsync(["store-check", "--set", $"Store:Local:Path={_folder.Path}/store"]);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains($"store-check: OK: file://{_folder.Path}/store", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(_folder.Path, "store"), "*", SearchOption.AllDirectories),
            f => !f.EndsWith(".lock", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new[] { "--set", "Store:Kind=s4" }, "Store:Kind: 's4' is not a store kind")]
    [InlineData(new[] { "--set", "Store:Kind=s3" }, "Store:S3:Bucket: required")]
    [InlineData(new[] { "--set", "Store:Kind=s3", "--set", "Store:S3:Bucket=b-1", "--set", "Store:S3:MaxConcurrentRequests=0" }, "Store:S3:MaxConcurrentRequests: 0 is outside 1..1024")]
    [InlineData(new[] { "--set", "Store:S3:MaxConcurrentRequests=many" }, "Store: Failed to convert configuration value 'many' at 'Store:S3:MaxConcurrentRequests'")]
    [InlineData(new[] { "--set", "Store:S3:NoSuchSetting=1" }, "Store: ")]
    [InlineData(new[] { "--set", "Store:Kind=s3", "--set", "Store:S3:Bucket=b-1", "--set", "Store:S3:AccessKey=a" }, "Store:S3:SecretKey: must be set together with AccessKey")]
    [InlineData(new[] { "--set", "no-equals-sign" }, "--set: 'no-equals-sign' is not Key=Value")]
    [InlineData(new[] { "--config", "/nonexistent/s3block.json" }, "--config: file '/nonexistent/s3block.json' does not exist")]
    public async Task A_wrong_setting_exits_2_with_one_line_naming_the_key(string[] arguments, string expected)
    {
        var result = await S3BlockCli.RunAsync(["store-check", .. arguments], workingDirectory: _folder.Path);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("s3block: configuration error: " + expected, line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_folder.Path, "data")), "a failed configuration must not create the store");
    }

    [Fact]
    public async Task Environment_overrides_appsettings_and_set_overrides_environment()
    {
        var result = await S3BlockCli.RunAsync(
            ["store-check", "--set", "Store:Kind=s5"],
            new Dictionary<string, string> { ["S3BLOCK_Store__Kind"] = "s4" });

        Assert.Contains("'s5'", Assert.Single(result.ErrorLines), StringComparison.Ordinal);
    }

    public void Dispose() => _folder.Dispose();
}
