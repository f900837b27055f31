using S3Block.TestKit;

namespace S3Block.Tests.Cli;

/// <summary>
/// <c>s3block run</c> checks every setting before it touches the store or the kernel; these run on any machine
/// (serving itself is tested in the VM suite).
/// </summary>
public sealed class RunCliTests : IDisposable
{
    private readonly TempFolder _folder = new("cli-run");

    [Theory]
    [InlineData(new string[0], "Daemon:Volume: required")]
    [InlineData(new[] { "Bad_Name" }, "Daemon:Volume: 'Bad_Name' is not a valid volume name")]
    [InlineData(new[] { "vol1", "--set", "Device:Queues=0" }, "Device:Queues: 0 is outside 1..64")]
    [InlineData(new[] { "vol1", "--set", "Device:MaxIoBytes=3000" }, "Device:MaxIoBytes: 3000 must be a multiple of 4096")]
    [InlineData(new[] { "vol1", "--set", "Journal:CapacityBytes=1MiB" }, "Journal:CapacityBytes: CapacityBytes must be at least two segments")]
    [InlineData(new[] { "vol1", "--set", "Journal:HighWaterMark=2" }, "Journal:HighWaterMark:")]
    [InlineData(new[] { "vol1", "--set", "Volume:LeaseTtl=00:00:01" }, "Volume:LeaseTtl: must be at least 3 s")]
    [InlineData(new[] { "vol1", "--set", "Volume:MaxUploadsInFlight=0" }, "Volume:MaxUploadsInFlight: 0 is outside 1..256")]
    [InlineData(new[] { "vol1", "--set", "Volume:ReadAheadChunks=-1" }, "Volume:ReadAheadChunks: -1 is outside 0..64")]
    [InlineData(new[] { "vol1", "--set", "Volume:FlushMode=Sometimes" }, "Volume: Failed to convert configuration value 'Sometimes'")]
    [InlineData(new[] { "vol1", "--set", "Metrics:Port=70000" }, "Metrics:Port: 70000 is outside 0..65535")]
    [InlineData(new[] { "vol1", "--set", "Cache:DiskBudgetBytes=1KiB" }, "Cache:DiskBudgetBytes:")]
    [InlineData(new[] { "vol1", "--set", "Store:Kind=s3" }, "Store:S3:Bucket: required")]
    public async Task A_wrong_setting_exits_2_naming_the_key_before_anything_is_touched(string[] arguments, string expected)
    {
        var result = await S3BlockCli.RunAsync(["run", .. arguments], workingDirectory: _folder.Path);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("s3block: configuration error: " + expected, Assert.Single(result.ErrorLines), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_folder.Path, "data")), "nothing may be created before the configuration is valid");
    }

    [Fact]
    public async Task Without_the_ublk_module_run_says_so_and_exits_1()
    {
        if (File.Exists("/dev/ublk-control"))
        {
            Assert.Fail("this test needs a kernel without ublk (the development and CI machines have none); the VM suite covers the device");
        }

        var result = await S3BlockCli.RunAsync(["run", "vol1"], workingDirectory: _folder.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("s3block: /dev/ublk-control is missing: the ublk_drv kernel module is not loaded (modprobe ublk_drv)", Assert.Single(result.ErrorLines));
    }

    public void Dispose() => _folder.Dispose();
}
