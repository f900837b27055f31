using S3Block.Ublk.Cli;
using S3Block.Ublk.Configuration;

namespace S3Block.Ublk.Tests.Systemd;

/// <summary>The shipped unit passes systemd's own checks, and says what the daemon relies on.</summary>
public sealed class UnitFileTests
{
    [Fact]
    public async Task SystemdAnalyzeVerifyAcceptsTheUnit()
    {
        using var analyze = new SystemdAnalyze();
        var (exitCode, problems, output) = await analyze.VerifyAsync();

        Assert.True(exitCode == 0 && problems.Count == 0,
            $"systemd-analyze verify {analyze.InstancePath} exited {exitCode}:\n{output}");
    }

    /// <summary>Proves the check above can fail: verify exits 0 on unknown keys, so the problem lines must count.</summary>
    [Theory]
    [InlineData("DevicePolicy=closed", "DevicePolicyy=closed")]
    [InlineData("ProtectHome=yes", "ProtectHome=yess")]
    [InlineData("[Service]", "[Servcie]")]
    [InlineData("StartLimitBurst=20", "StartLimitBurst=twenty")]
    public async Task SystemdAnalyzeVerifyCatchesATypo(string good, string typo)
    {
        using var analyze = new SystemdAnalyze(text =>
        {
            Assert.Contains(good, text, StringComparison.Ordinal);
            return text.Replace(good, typo, StringComparison.Ordinal);
        });
        var (exitCode, problems, output) = await analyze.VerifyAsync();

        Assert.True(exitCode != 0 || problems.Count > 0, $"'{typo}' went unnoticed:\n{output}");
    }

    [Fact]
    public async Task TheMissingExecutableIsAProblemToo()
    {
        using var analyze = new SystemdAnalyze(text => text.Replace("\nExecStart=/", "\nExecStart=/nonexistent/", StringComparison.Ordinal));
        var (exitCode, problems, output) = await analyze.VerifyAsync();

        Assert.True(exitCode != 0 || problems.Count > 0, output);
    }

    /// <summary>
    /// The hardening keeps systemd's exposure score at or below 5.0 (currently 3.8 with systemd 252). Dropping a
    /// handful of the sandboxing options fails this.
    /// </summary>
    [Fact]
    public async Task SystemdAnalyzeSecurityRatesTheUnitAtMostFive()
    {
        using var analyze = new SystemdAnalyze();
        var (exitCode, output) = await analyze.SecurityAsync(thresholdTenths: 50);

        Assert.True(exitCode == 0, $"exposure above 5.0 (or systemd-analyze failed):\n{output}");
    }

    [Fact]
    public void TheUnitIsANotifyServiceWithWatchdogAndRestart()
    {
        UnitFile unit = UnitFile.Load(DeployFiles.ServiceUnit);

        Assert.Equal("notify", unit.Single("Service/Type"));
        Assert.Equal("main", unit.Single("Service/NotifyAccess"));
        Assert.Equal("/usr/lib/s3block/s3block run %i --config /etc/s3block/%i.json", unit.Single("Service/ExecStart"));
        Assert.Equal("on-failure", unit.Single("Service/Restart"));
        // The recovery-deadline guard the daemon starts must outlive a crashed daemon (DeviceDeadlineGuard).
        Assert.Equal("process", unit.Single("Service/KillMode"));
        Assert.NotEmpty(unit.Single("Service/RestartSec"));
        Assert.NotEmpty(unit.Single("Service/WatchdogSec"));
        Assert.NotEmpty(unit.Single("Service/TimeoutStopSec"));
        Assert.Equal("infinity", unit.Single("Service/LimitMEMLOCK"));
        Assert.NotEmpty(unit.Single("Service/LimitNOFILE"));
        Assert.NotEmpty(unit.Single("Service/OOMScoreAdjust"));
        Assert.Equal("s3block/%i", unit.Single("Service/StateDirectory"));
        Assert.Equal("s3block/%i", unit.Single("Service/CacheDirectory"));
        Assert.Equal("s3block/%i", unit.Single("Service/RuntimeDirectory"));

        // Start limits belong in [Unit] since systemd 230; in [Service] they are legacy aliases.
        Assert.NotEmpty(unit.Single("Unit/StartLimitIntervalSec"));
        Assert.NotEmpty(unit.Single("Unit/StartLimitBurst"));
        Assert.False(unit.Has("Service/StartLimitIntervalSec") || unit.Has("Service/StartLimitInterval"));
    }

    [Fact]
    public void TheUnitStartsBeforeAndStopsAfterNetworkFilesystems()
    {
        UnitFile unit = UnitFile.Load(DeployFiles.ServiceUnit);
        string[] after = [.. unit.All("Unit/After").SelectMany(v => v.Split(' ', StringSplitOptions.RemoveEmptyEntries))];

        Assert.Contains("network-online.target", after);
        Assert.Contains("local-fs.target", after);
        string[] wants = [.. unit.All("Unit/Wants").SelectMany(v => v.Split(' ', StringSplitOptions.RemoveEmptyEntries))];
        Assert.Contains("network-online.target", wants);
        Assert.Contains("remote-fs-pre.target", wants);
        Assert.Equal("remote-fs-pre.target", unit.Single("Unit/Before"));
        Assert.Equal("multi-user.target", unit.Single("Install/WantedBy"));
    }

    [Fact]
    public void TheSandboxLeavesTheDaemonWhatItNeeds()
    {
        UnitFile unit = UnitFile.Load(DeployFiles.ServiceUnit);

        Assert.Equal("CAP_SYS_ADMIN CAP_SYS_RESOURCE", unit.Single("Service/CapabilityBoundingSet"));
        Assert.Equal("closed", unit.Single("Service/DevicePolicy"));
        Assert.Equal(
            ["/dev/ublk-control rw", "char-ublk-char rw", "block-blkext rw"],
            unit.All("Service/DeviceAllow"));
        Assert.Equal("strict", unit.Single("Service/ProtectSystem"));
        Assert.Equal("AF_UNIX AF_INET AF_INET6 AF_NETLINK", unit.Single("Service/RestrictAddressFamilies"));
        foreach (string on in new[]
        {
            "NoNewPrivileges", "ProtectHome", "PrivateTmp", "ProtectKernelModules", "ProtectKernelTunables",
            "ProtectControlGroups", "LockPersonality", "RestrictRealtime", "RestrictSUIDSGID", "MemoryDenyWriteExecute",
        })
        {
            Assert.Equal("yes", unit.Single($"Service/{on}"));
        }

        Assert.Equal("native", unit.Single("Service/SystemCallArchitectures"));

        // Each of these would break the daemon: /dev/ublk-control, io_uring syscalls, real CAP_SYS_ADMIN.
        foreach (string off in new[] { "PrivateDevices", "SystemCallFilter", "PrivateUsers", "ProcSubset", "PrivateNetwork" })
        {
            Assert.False(unit.Has($"Service/{off}"), $"{off}= must not be set (see the comment in the unit)");
        }
    }

    [Fact]
    public void TheModuleIsLoadedAtBootSoProtectKernelModulesCanStayOn()
    {
        string[] lines = [.. File.ReadAllLines(DeployFiles.ModulesLoad).Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#')];
        Assert.Equal(["ublk_drv"], lines);
    }

    /// <summary>
    /// What the unit starts: <c>run VOLUME --config /etc/s3block/VOLUME.json</c> with the unit's environment, through the
    /// daemon's own settings loader. The example must pass validation (an unknown key would make every start exit 2),
    /// and the journal and cache must land in the directories the sandbox lets the daemon write.
    /// </summary>
    [Fact]
    public void TheExampleConfigLoadsAsTheUnitStartsItAndKeepsStateInTheUnitsDirectories()
    {
        UnitFile unit = UnitFile.Load(DeployFiles.ServiceUnit);
        string[] overrides =
        [
            .. unit.All("Service/Environment")
                .Where(e => e.StartsWith(AppConfiguration.EnvironmentPrefix, StringComparison.Ordinal))
                .Select(e => e[AppConfiguration.EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal)
                    .Replace("%i", "vol1", StringComparison.Ordinal)),
        ];
        var configuration = AppConfiguration.Build(DeployFiles.ExampleConfig, overrides);

        var settings = DaemonSettings.Load(new CommandContext(configuration, TextWriter.Null), "vol1", forceTakeover: false);

        Assert.Equal("s3", settings.Store.Kind);
        Assert.Equal("my-s3block-bucket", settings.Store.S3.Bucket);
        Assert.StartsWith("/var/lib/s3block/vol1/", settings.Daemon.JournalDirectory, StringComparison.Ordinal);
        Assert.StartsWith("/var/lib/s3block/vol1/", settings.Daemon.InstanceLockPath, StringComparison.Ordinal);
        Assert.Equal("/var/cache/s3block/vol1", settings.Cache.Folder);
        Assert.Equal(4L << 30, settings.Journal.CapacityBytes);
        Assert.Equal("s3block/%i", unit.Single("Service/StateDirectory"));
        Assert.Equal("s3block/%i", unit.Single("Service/CacheDirectory"));
    }
}
