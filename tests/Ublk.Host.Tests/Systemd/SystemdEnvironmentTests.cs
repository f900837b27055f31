using S3Block.Ublk.Systemd;

namespace S3Block.Ublk.Tests.Systemd;

public sealed class SystemdEnvironmentTests
{
    private const int OurPid = 1234;

    [Fact]
    public void WithoutWatchdogVariablesThereIsNoWatchdog()
    {
        Assert.Null(SystemdEnvironment.ReadWatchdog(_ => null, OurPid));
        Assert.Null(SystemdEnvironment.None.WatchdogPingPeriod);
        Assert.False(SystemdEnvironment.None.IsSystemdService);
    }

    [Fact]
    public void TheWatchdogIsPingedAtHalfItsInterval()
    {
        var environment = new SystemdEnvironment(true, Read(new() { ["WATCHDOG_USEC"] = "30000000" }));

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
        Assert.Equal(ours ? TimeSpan.FromMilliseconds(200) : null, Read(new() { ["WATCHDOG_USEC"] = "200000", ["WATCHDOG_PID"] = watchdogPid }));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("soon")]
    [InlineData("")]
    public void NonsenseWatchdogValuesMeanNoWatchdog(string usec) =>
        Assert.Null(Read(new() { ["WATCHDOG_USEC"] = usec }));

    [Fact]
    public void FromProcessReadsThisProcess()
    {
        // The package decides whether systemd is our parent; the watchdog variables are this process's.
        SystemdEnvironment environment = SystemdEnvironment.FromProcess();
        Assert.Equal(Microsoft.Extensions.Hosting.Systemd.SystemdHelpers.IsSystemdService(), environment.IsSystemdService);
        Assert.Equal(SystemdEnvironment.ReadWatchdog(Environment.GetEnvironmentVariable, Environment.ProcessId), environment.WatchdogInterval);
    }

    private static TimeSpan? Read(Dictionary<string, string> variables) =>
        SystemdEnvironment.ReadWatchdog(name => variables.GetValueOrDefault(name), OurPid);
}
