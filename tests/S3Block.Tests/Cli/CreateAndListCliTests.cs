using S3Block.TestKit;

namespace S3Block.Tests.Cli;

/// <summary><c>s3block create</c> and <c>s3block list</c> against the embedded local store.</summary>
public sealed class CreateAndListCliTests : IDisposable
{
    private readonly TempFolder _folder = new("cli");

    [Fact]
    public async Task A_created_volume_is_listed_and_cannot_be_created_twice()
    {
        var created = await RunAsync("create", "vol1", "--size", "1GiB", "--chunk-size", "1MiB");
        var again = await RunAsync("create", "vol1", "--size", "1GiB");
        var listed = await RunAsync("list");

        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Contains("created volume vol1: 1GiB in 1024 chunks of 1MiB", created.Out, StringComparison.Ordinal);
        Assert.Equal(1, again.ExitCode);
        Assert.Equal($"s3block: volume 'vol1' already exists in file://{_folder.Path}/store", Assert.Single(again.ErrorLines));
        Assert.Contains("volumes in ", listed.Out, StringComparison.Ordinal);
        Assert.Matches(@"vol1\s+1GiB\s+1MiB\s+0\s+never\s+free", listed.Out);
    }

    [Theory]
    [InlineData(new[] { "create", "vol1", "--size", "lots" }, "--size: 'lots' is not a size")]
    [InlineData(new[] { "create", "Vol1", "--size", "1GiB" }, "name: 'Vol1' is not a valid volume name")]
    [InlineData(new[] { "create", "vol1", "--size", "1GiB", "--chunk-size", "3MiB" }, "create: chunk size 3145728 must be a power of two")]
    [InlineData(new[] { "create", "vol1", "--size", "1000", "--block-size", "4096" }, "create: size 1000 must be a positive multiple of the logical block size")]
    public async Task Bad_create_arguments_exit_2_naming_the_argument(string[] arguments, string expected)
    {
        var result = await RunAsync(arguments);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("s3block: configuration error: " + expected, Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_folder.Path, "store", "vol1.d")));
    }

    public void Dispose() => _folder.Dispose();

    private Task<S3BlockCli.Result> RunAsync(params string[] arguments) =>
        S3BlockCli.RunAsync([.. arguments, "--set", $"Store:Local:Path={_folder.Path}/store"]);
}
