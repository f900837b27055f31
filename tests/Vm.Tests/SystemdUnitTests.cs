using System.Globalization;
using System.Text.RegularExpressions;

namespace S3Block.Tests.Vm;

/// <summary>
/// deploy/systemd/s3block@.service run by systemd 252 as PID 1 in the 6.12 guest, installed as deploy/README.md says
/// (embedded local store, the udev rule, an fstab line): readiness, status and journal; a filesystem mounted through
/// /dev/s3block/&lt;volume&gt; and ordered after the unit; kill -9, a hung daemon, the mount-namespace deadlock sequence
/// of issue 13, a stop with a backlog, and a reboot: the first boot (tests/Vm.Tests/guest/systemd-unit.sh) ends with
/// `systemctl poweroff`, and a second boot of the same machine (its root on a state disk; guest/systemd-reboot.sh) must
/// start the unit and mount the filesystem by itself, clean and with every file.
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
        GuestAssert.Contains("kernel errors: 0", run["reboot-kernel-log"]);
    }

    [Fact]
    public void After_poweroff_the_next_boot_starts_the_enabled_unit_and_mounts_the_fstab_line_by_itself()
    {
        GuestAssert.Contains("unit enabled: enabled", run["reboot-setup"]);
        var section = run["reboot-boot"];
        GuestAssert.Contains("second boot: the first boot's root is here", section);
        GuestAssert.Contains("system: running", section);
        GuestAssert.Contains("unit: enabled active restarts=0", section);
        GuestAssert.Matches(@"serving volume vol1 on /dev/ublkb\d+", section);
        GuestAssert.Contains("mount unit: active", section);
        GuestAssert.Matches(@"(?m)^/dev/ublkb\d+\s+/srv/vol1\s+ext4$", section);
        GuestAssert.Matches(@"(?m)^/dev/s3block/vol1 -> /dev/ublkb\d+$", section);
    }

    [Fact]
    public void After_poweroff_the_next_boot_finds_the_filesystem_clean_with_every_file_including_those_never_fsynced()
    {
        var recorded = int.Parse(
            Regex.Match(run["reboot-setup"], @"files recorded for the reboot: (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(recorded > 30, $"too few files recorded: {recorded}");   // the tree (30), the fsynced files, backlog, 3 unsynced
        var fsck = run["reboot-fsck"];
        GuestAssert.Matches(@"vol1data: clean, \d+/\d+ files", fsck);
        GuestAssert.Contains("mounted filesystem", fsck);
        GuestAssert.Contains("journal recoveries: 0", fsck);
        var data = run["reboot-data"];
        GuestAssert.Contains($"all files same ({recorded})", data);
        GuestAssert.Contains("fsynced files same (14)", data);
        GuestAssert.Contains("fsck rc=0", run["reboot-fsck-after"]);
    }

    [Fact]
    public void The_persistent_journal_of_the_poweroff_shows_the_filesystem_unmounted_before_the_daemon_stopped()
    {
        // Only the lines since the first boot's last section: the poweroff, in order.
        var log = run["reboot-last-poweroff"];
        string[] order =
        [
            "Unmounting srv-vol1.mount", "Unmounted srv-vol1.mount", "Stopping s3block@vol1.service",
            "Stopped volume vol1: everything is in S3", "Stopped s3block@vol1.service",
        ];
        var positions = order.Select(line => log.IndexOf(line, StringComparison.Ordinal)).ToArray();
        Assert.True(positions.All(p => p >= 0), $"missing one of {string.Join(" | ", order)}:\n{log}");
        Assert.True(
            positions.Zip(positions.Skip(1)).All(pair => pair.First < pair.Second),
            $"not in the order {string.Join(" < ", order)} (the mount must be gone before the daemon stops):\n{log}");
    }
}

/// <summary>The two systemd boots behind <see cref="SystemdUnitTests"/>: the tests, then a reboot.</summary>
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

    protected override string RebootScript => """bash "$S3BLOCK_REPO/tests/Vm.Tests/guest/systemd-reboot.sh" """;
}
