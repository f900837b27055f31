using System.Globalization;
using System.Text.RegularExpressions;

namespace S3Block.Tests.Vm;

/// <summary>
/// deploy/systemd/s3block@.service run by systemd 252 as PID 1 in the 6.12 guest, installed as deploy/README.md says
/// (embedded local store, the udev rule, an fstab line): readiness, status and journal; a filesystem mounted through
/// /dev/s3block/&lt;volume&gt; and ordered after the unit; kill -9, a hung daemon, the mount-namespace deadlock sequence
/// of issue 13 and a stop with a backlog. One boot (tests/Vm.Tests/guest/systemd-unit.sh) serves every test.
/// </summary>
public sealed class SystemdUnitTests(SystemdUnitRun run) : IClassFixture<SystemdUnitRun>
{
    [Fact]
    public void Enable_now_returns_once_the_device_serves_io_and_status_and_journal_show_the_daemon()
    {
        var section = run["enable"];
        GuestAssert.Contains("enable rc=0", section);
        GuestAssert.Matches(@"when enable returned: unit active, /dev/ublkb\d+ serves I/O", section);
        GuestAssert.Matches(@"Status: ""[^""]*serving volume vol1 on /dev/ublkb\d+", section);
        GuestAssert.Contains("Serving volume vol1 on /dev/ublkb", section);
        GuestAssert.Contains("Serving line at priority info", section);
        GuestAssert.Contains("Serving line not at priority warning", section);
    }

    [Fact]
    public void The_udev_rule_names_the_disk_after_its_volume_and_links_the_filesystem_by_uuid_and_label_after_mkfs()
    {
        GuestAssert.Matches(@"(?m)^/dev/s3block/vol1 -> /dev/ublkb\d+$", run["enable"]);
        var section = run["mount"];
        GuestAssert.Contains("mkfs rc=0", section);
        GuestAssert.Contains("by-uuid link after mkfs", section);
        GuestAssert.Contains("by-label link after mkfs", section);
    }

    [Fact]
    public void The_documented_fstab_line_mounts_the_volume_ordered_after_the_unit()
    {
        var section = run["mount"];
        GuestAssert.Contains("mount rc=0", section);
        GuestAssert.Matches(@"(?m)^/dev/ublkb\d+\s+/srv/vol1$", section);
        GuestAssert.Contains("srv-vol1.mount is ordered after s3block@vol1", section);
        GuestAssert.Contains("fsynced files same (4)", section);
    }

    [Fact]
    public void Under_the_hardened_unit_every_thread_has_IO_FLUSHER_and_the_tag_buffers_are_locked()
    {
        var section = run["io-flusher"];
        Match counts = Regex.Match(section, @"threads=(\d+) io_flusher=(\d+)");
        Assert.True(counts.Success, section);
        Assert.True(int.Parse(counts.Groups[1].Value, CultureInfo.InvariantCulture) >= 10, section);
        Assert.Equal(counts.Groups[1].Value, counts.Groups[2].Value);
        GuestAssert.DoesNotContain("without:", section);
        Match locked = Regex.Match(section, @"vmlck_kb=(\d+)");
        Assert.True(locked.Success && long.Parse(locked.Groups[1].Value, CultureInfo.InvariantCulture) > 0, section);
        GuestAssert.Matches(@"IO_FLUSHER on (\d+) of \1 threads \(SetBeforeRuntime\); tag buffers locked in memory: (\d+) of \2 bytes", section);
    }

    [Fact]
    public void Kill_9_is_restarted_by_systemd_and_reattaches_under_the_mounted_filesystem_without_losing_fsynced_files()
    {
        var section = run["kill9"];
        foreach (var round in new[] { 1, 2 })
        {
            GuestAssert.Contains($"round {round}: writes during restart done", section);
            GuestAssert.Contains($"round {round}: still mounted", section);
        }

        GuestAssert.Matches(@"(?m)^active again with a new pid after \d+ s$", section);
        GuestAssert.DoesNotContain("not active again", section);
        GuestAssert.DoesNotContain("failed", section);
        GuestAssert.Contains("fsynced files same (8)", section);
        GuestAssert.Contains("restarts: 2", section);
        GuestAssert.Contains("recovered starts in the journal: 2", section);
    }

    [Fact]
    public void A_hung_daemon_is_replaced_by_a_new_one_within_90_seconds_without_losing_fsynced_files()
    {
        var section = run["hang"];
        var seconds = int.Parse(Regex.Match(section, @"hung daemon replaced after (\d+) s").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 0, 90);
        GuestAssert.DoesNotContain("not active again", section);
        GuestAssert.Contains("fsynced files same (12)", section);
        GuestAssert.Contains("still mounted", section);
    }

    [Fact]
    public void A_daemon_restarted_under_a_mounted_filesystem_then_unmounted_and_stopped_leaves_nothing_stuck()
    {
        var section = run["restart-umount-stop"];
        GuestAssert.Contains("umount rc=0", section);
        GuestAssert.Contains("stop rc=0", section);
        GuestAssert.Contains("unit: inactive", section);
        GuestAssert.Contains("devices left: 0", section);
        GuestAssert.Contains("D-state processes: 0", section);
    }

    [Fact]
    public void Two_restarts_under_a_mounted_filesystem_then_unmount_and_sigkill_leave_nothing_stuck()
    {
        var section = run["restart-umount-kill"];
        GuestAssert.Contains("fsynced files same (12)", section);
        GuestAssert.DoesNotContain("not active again", section);
        GuestAssert.Contains("umount rc=0", section);
        GuestAssert.Contains("stop rc=0", section);
        GuestAssert.Contains("unit: inactive", section);
        GuestAssert.DoesNotContain("D state:", section);
        GuestAssert.Contains("D-state processes: 0", section);
    }

    [Fact]
    public void A_stop_with_a_backlog_outlives_a_short_stop_timeout_by_extending_it_and_ends_with_everything_in_the_store()
    {
        var section = run["stop-backlog"];
        GuestAssert.Contains("backlog written", section);
        GuestAssert.Contains("uploading", section);
        GuestAssert.Contains("stop rc=0", section);
        GuestAssert.Contains("unit: inactive result: success", section);
        GuestAssert.Contains("Stopped volume vol1", section);
        var after = run["after"];
        GuestAssert.Contains("started and mounted again", after);
        GuestAssert.Contains("backlog same", after);
        GuestAssert.Contains("fsynced files same (12)", after);
        GuestAssert.Contains("fsck rc=0", after);
    }

    [Fact]
    public void Poweroff_unmounts_the_filesystem_before_the_daemon_stops_uploads_and_deletes_the_device()
    {
        GuestAssert.Contains("witness rc=0", run["poweroff-setup"]);
        var log = run.PoweroffLog;
        GuestAssert.Contains("Unmounted srv-vol1.mount", log);
        GuestAssert.Contains("Stopping s3block@vol1.service", log);
        GuestAssert.Contains("Stopped volume vol1: everything is in S3", log);
        Assert.True(
            log.IndexOf("Unmounted srv-vol1.mount", StringComparison.Ordinal) < log.IndexOf("Stopping s3block@vol1.service", StringComparison.Ordinal),
            $"the daemon was stopped before the filesystem was unmounted:\n{log}");
        GuestAssert.Contains("cannot access '/dev/ublkb*'", log);
    }

    [Fact]
    public void The_kernel_log_has_no_io_errors_and_no_hung_tasks()
    {
        GuestAssert.Contains("kernel errors: 0", run["kernel-log"]);
    }
}

/// <summary>The one systemd boot behind <see cref="SystemdUnitTests"/>.</summary>
public sealed class SystemdUnitRun : GuestScriptRun
{
    protected override TimeSpan Timeout => TimeSpan.FromMinutes(15);

    protected override bool Systemd => true;

    /// <summary>What the witness unit recorded while the guest powered off (journal of the mount and the unit).</summary>
    public string PoweroffLog => File.Exists(PoweroffLogPath) ? File.ReadAllText(PoweroffLogPath) : "(no poweroff.log: the witness unit did not run)";

    protected override string? ShareDirectory => _share.Value;

    private readonly Lazy<string> _share = new(() =>
    {
        var folder = Path.Combine(GuestVm.RepoRoot, "artifacts", "vm-logs", "SystemdUnitRun.share");
        Directory.CreateDirectory(folder);
        File.Delete(Path.Combine(folder, "poweroff.log"));   // never assert on an earlier run's record
        return folder;
    });

    private string PoweroffLogPath => Path.Combine(_share.Value, "poweroff.log");

    protected override string Script => """bash "$S3BLOCK_REPO/tests/Vm.Tests/guest/systemd-unit.sh" """;
}
