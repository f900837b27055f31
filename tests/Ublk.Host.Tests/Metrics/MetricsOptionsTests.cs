using S3Block.Ublk.Metrics;

namespace S3Block.Ublk.Tests.Metrics;

public sealed class MetricsOptionsTests
{
    [Fact]
    public void DefaultsAreLoopbackOnPort9464AndValid()
    {
        var options = new MetricsOptions();

        Assert.True(options.Enabled);
        Assert.Equal("127.0.0.1", options.Address);
        Assert.Equal(9464, options.Port);
        Assert.Empty(options.Validate());
    }

    [Theory]
    [InlineData("localhost", 9464, "Metrics:Address: 'localhost' is not an IP address")]
    [InlineData("", 9464, "Metrics:Address: '' is not an IP address")]
    [InlineData("127.0.0.1", -1, "Metrics:Port: -1 is outside 0..65535")]
    [InlineData("::1", 65536, "Metrics:Port: 65536 is outside 0..65535")]
    public void ProblemsNameTheKey(string address, int port, string problem)
    {
        var options = new MetricsOptions { Address = address, Port = port };

        Assert.StartsWith(problem, Assert.Single(options.Validate()), StringComparison.Ordinal);
    }

    [Fact]
    public void ProblemsUseTheGivenSection()
    {
        var options = new MetricsOptions { Port = 70000 };

        Assert.StartsWith("Daemon:Metrics:Port:", Assert.Single(options.Validate("Daemon:Metrics")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.0.0.0", 0)]
    [InlineData("::", 65535)]
    [InlineData("10.1.2.3", 9100)]
    public void AnyAddressAndPortZeroAreAccepted(string address, int port)
    {
        Assert.Empty(new MetricsOptions { Address = address, Port = port }.Validate());
    }
}
