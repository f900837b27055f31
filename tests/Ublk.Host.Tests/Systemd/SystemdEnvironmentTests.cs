using S3Block.Ublk.Systemd;

namespace S3Block.Ublk.Tests.Systemd;

public sealed class SystemdEnvironmentTests
{
    private const int OurPid = 1234;

    [Fact]
    public void OutsideSystemdThereIsNothing()
    {
        SystemdEnvironment environment = Read([]);

        Assert.Null(environment.NotifySocket);
        Assert.Null(environment.WatchdogInterval);
        Assert.Null(environment.WatchdogPingPeriod);
        Assert.False(environment.IsUnderSystemd);
    }

    [Fact]
    public void ReadsTheNotifySocketAndInvocationId()
    {
        SystemdEnvironment environment = Read(new() { ["NOTIFY_SOCKET"] = "@/org/freedesktop/systemd1/notify/1", ["INVOCATION_ID"] = "abc" });

        Assert.Equal("@/org/freedesktop/systemd1/notify/1", environment.NotifySocket);
        Assert.Equal("abc", environment.InvocationId);
        Assert.True(environment.IsUnderSystemd);
    }

    [Fact]
    public void EitherVariableMeansUnderSystemd()
    {
        Assert.True(Read(new() { ["INVOCATION_ID"] = "abc" }).IsUnderSystemd);
        Assert.True(Read(new() { ["NOTIFY_SOCKET"] = "/run/systemd/notify" }).IsUnderSystemd);
        Assert.False(Read(new() { ["NOTIFY_SOCKET"] = "", ["INVOCATION_ID"] = "" }).IsUnderSystemd);
    }

    [Fact]
    public void TheWatchdogIsPingedAtHalfItsInterval()
    {
        SystemdEnvironment environment = Read(new() { ["WATCHDOG_USEC"] = "30000000" });

        Assert.Equal(TimeSpan.FromSeconds(30), environment.WatchdogInterval);
        Assert.Equal(TimeSpan.FromSeconds(15), environment.WatchdogPingPeriod);
    }

    [Theory]
    [InlineData("1234", true)]
    [InlineData("999", false)]
    [InlineData("not-a-pid", false)]
    [InlineData("", true)]
    public void TheWatchdogIsOursOnlyWhenWatchdogPidIsUnsetOrOurs(string watchdogPid, bool ours)
    {
        SystemdEnvironment environment = Read(new() { ["WATCHDOG_USEC"] = "200000", ["WATCHDOG_PID"] = watchdogPid });

        Assert.Equal(ours ? TimeSpan.FromMilliseconds(200) : null, environment.WatchdogInterval);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("soon")]
    [InlineData("")]
    public void NonsenseWatchdogValuesMeanNoWatchdog(string usec) =>
        Assert.Null(Read(new() { ["WATCHDOG_USEC"] = usec }).WatchdogInterval);

    [Fact]
    public void FromProcessReadsThisProcess()
    {
        // The test runner is not a systemd unit with a watchdog for this pid.
        SystemdEnvironment environment = SystemdEnvironment.FromProcess();
        Assert.Equal(Environment.GetEnvironmentVariable("NOTIFY_SOCKET") is { Length: > 0 } s ? s : null, environment.NotifySocket);
    }

    private static SystemdEnvironment Read(Dictionary<string, string> variables) =>
        SystemdEnvironment.Read(name => variables.GetValueOrDefault(name), OurPid);
}
