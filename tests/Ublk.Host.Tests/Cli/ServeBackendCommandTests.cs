using System.CommandLine;
using S3Block.Ublk.Cli;

namespace S3Block.Ublk.Tests.Cli;

public sealed class ServeBackendCommandTests
{
    [Theory]
    [InlineData("4096", 4096L)]
    [InlineData("64MiB", 64L << 20)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("512K", 512L << 10)]
    public void TakesSizesWithUnits(string text, long expected)
    {
        ParseResult result = ServeBackendCommand.Create().Parse(["--size", text, "--max-io", "256KiB"]);
        Assert.Empty(result.Errors);
        Assert.Equal(expected, result.GetValue<long?>("--size"));
        Assert.Equal(256L << 10, result.GetValue<long?>("--max-io"));
    }

    [Fact]
    public void ParsesItsOptions()
    {
        Command command = ServeBackendCommand.Create();
        Assert.Equal("serve-backend", command.Name);
        ParseResult result = command.Parse(["--backend", "file:/tmp/x.img", "--size", "1GiB", "--queues", "2", "--depth", "64", "--id", "3"]);
        Assert.Empty(result.Errors);
        Assert.Equal(1L << 30, result.GetValue<long?>("--size"));
        Assert.Equal(2, result.GetValue<int>("--queues"));
        Assert.Equal("file:/tmp/x.img", result.GetValue<string>("--backend"));
    }

    [Fact]
    public void ReportsABadSize()
    {
        ParseResult result = ServeBackendCommand.Create().Parse(["--size", "lots"]);
        Assert.Contains(result.Errors, e => e.Message.Contains("is not a size"));
    }
}
