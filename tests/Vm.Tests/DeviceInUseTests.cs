namespace S3Block.Tests.Vm;

/// <summary>
/// Issue 10, points 2 and 5, in the 6.12 guest: a device that the kernel says is in use (a mounted partition, a
/// device-mapper target on a partition, a swap area) is never stopped by SIGTERM or <c>delete</c>, which name the user,
/// and nothing is lost; a device whose daemon is gone fails its I/O once <c>Daemon:RecoveryDeadline</c> has passed
/// instead of hanging, unless a daemon is coming back; under systemd too, with the shipped unit. One boot
/// (<c>tests/Vm.Tests/guest/device-in-use.sh</c> and <c>systemd-deadline.sh</c>).
/// </summary>
public sealed class DeviceInUseTests(DeviceInUseRun run) : IClassFixture<DeviceInUseRun>
{
    [Fact]
    public void The_guest_has_the_tools_and_a_partitioned_device()
    {
        GuestAssert.DoesNotContain("missing tool", run["tools"]);
        GuestAssert.Contains("ublk_drv loaded", run["tools"]);
        GuestAssert.Contains("dm_mod loaded", run["tools"]);
        var setup = run["setup"];
        GuestAssert.Contains("rereadpt rc=0", setup);
        GuestAssert.Matches(@"/dev/ublkb\d+p1 /dev/ublkb\d+p2 /dev/ublkb\d+p3", setup);
        GuestAssert.Contains("p1 files=30", setup);
        GuestAssert.Contains("dm target created", setup);
        GuestAssert.Contains("lv files=30", setup);
        GuestAssert.Contains("swap made", setup);
    }

    [Fact]
    public void Sigterm_and_delete_leave_a_device_in_use_and_name_every_user()
    {
        var section = run["in-use"];
        GuestAssert.Contains("lv mounted", section);
        GuestAssert.Contains("swaps=1", section);
        GuestAssert.Contains("stop rc=0", section);
        const string users = @"/dev/ublkb\d+p1 is mounted at /tmp/p1; /dev/ublkb\d+p2 is held by /dev/mapper/s3b-lin \(dm-\d+\); " +
                             @"/dev/mapper/s3b-lin \(dm-\d+\) is mounted at /tmp/lv; /dev/ublkb\d+p3 is a swap area in use\.";
        GuestAssert.Matches(@"is still in use: " + users + " Everything is in S3, but the device is left attached", section);
        GuestAssert.Contains("device kept", section);
        GuestAssert.Matches(@"s3block: /dev/ublkb\d+ is in use: " + users + " It is left attached for its daemon to recover", section);
        GuestAssert.Contains("delete rc=1", section);
        GuestAssert.Contains("device kept after delete", section);
        GuestAssert.Matches(@"ready: serving volume vin on /dev/ublkb\d+ \(recovered", section);
        GuestAssert.Contains("p1 tree same", section);
        GuestAssert.Contains("lv tree same", section);
        GuestAssert.Contains("p1 writable", section);
        GuestAssert.Contains("swap off", section);
        GuestAssert.Contains("dm target removed", section);
    }

    [Fact]
    public void An_unused_device_is_stopped_and_deleted_and_nothing_written_through_its_users_is_lost()
    {
        var section = run["unused"];
        GuestAssert.Contains("stop rc=0", section);
        GuestAssert.Contains("stopped: volume vin is in S3 and the device is deleted", section);
        GuestAssert.Contains("device deleted", section);
        GuestAssert.Contains("fsck p1 rc=0", section);
        GuestAssert.Contains("fsck p2 rc=0", section);
        GuestAssert.Contains("p1 tree same after restart", section);
        GuestAssert.Contains("p1 late file kept", section);
        GuestAssert.Contains("lv tree same after restart", section);
        GuestAssert.DoesNotContain("stop rc=1", section);
    }

    [Fact]
    public void A_killed_daemon_that_is_not_restarted_fails_its_io_after_the_deadline_without_a_hang()
    {
        var section = run["deadline"];
        GuestAssert.Matches(@"Started the recovery-deadline guard \(pid \d+\).* within 00:00:10", section);
        GuestAssert.Contains("after 5 s: read waiting=yes write waiting=yes", section);
        GuestAssert.DoesNotContain("still waiting", section);
        GuestAssert.Matches(@"read rc=[1-9]", section);
        GuestAssert.Matches(@"write rc=[1-9]", section);
        GuestAssert.Contains("failed no earlier than the deadline", section);
        GuestAssert.Contains("device gone", section);
        GuestAssert.Matches(@"s3block guard: no daemon has served volume vdl for 00:00:10", section);
        GuestAssert.Matches(@"s3block guard: stopped and deleted /dev/ublkb\d+", section);
        GuestAssert.Contains("umount rc=0", section);
        GuestAssert.Contains("D-state processes=0", section);
        GuestAssert.Matches(@"ready: serving volume vdl on /dev/ublkb\d+ \(created", section);
        GuestAssert.Contains("fsck rc=0", section);
        GuestAssert.Contains("fsynced file kept", section);
    }

    [Fact]
    public void A_daemon_coming_back_wins_over_the_deadline_however_long_it_takes()
    {
        var section = run["deadline-restart"];
        GuestAssert.Contains("guard running=yes", section);
        GuestAssert.Contains("after 20 s of lock: read waiting=yes device=kept", section);
        GuestAssert.Matches(@"ready: serving volume vdl on /dev/ublkb\d+ \(recovered", section);
        GuestAssert.Contains("read rc=0", section);
        GuestAssert.Contains("15 s later: device=kept old guard=exited", section);
        GuestAssert.Contains("fs writable", section);
        GuestAssert.Contains("stop rc=0", section);
        GuestAssert.Contains("D-state processes=0", section);
    }

    [Fact]
    public void Under_systemd_a_restarted_daemon_keeps_the_device_past_the_deadline_with_one_guard()
    {
        var start = run["systemd-start"];
        GuestAssert.Contains("start rc=0", start);
        GuestAssert.Matches(@"unit active on /dev/ublkb\d+", start);
        GuestAssert.Contains("guards=1", start);
        var section = run["systemd-restart"];
        GuestAssert.Contains("unit active with a new pid: yes", section);
        GuestAssert.Matches(@"serving volume vsd on /dev/ublkb\d+ \(recovered", section);
        GuestAssert.Contains("15 s later: device=kept guards=1", section);
        GuestAssert.Contains("fsynced file same", section);
        GuestAssert.Contains("fs writable", section);
    }

    [Fact]
    public void Under_systemd_the_guard_outlives_a_daemon_that_is_not_restarted_and_fails_its_io_after_the_deadline()
    {
        var section = run["systemd-deadline"];
        GuestAssert.Matches(@"after the crash: unit (failed|inactive), read waiting=yes, guards=1", section);
        GuestAssert.DoesNotContain("still waiting", section);
        GuestAssert.Matches(@"read rc=[1-9]", section);
        GuestAssert.Contains("failed no earlier than the deadline", section);
        GuestAssert.Contains("device gone", section);
        GuestAssert.Contains("s3block guard: no daemon has served volume vsd for 00:00:10", section);
        GuestAssert.Contains("umount rc=0", section);
        GuestAssert.Contains("D-state processes=0", section);
        GuestAssert.Contains("start again rc=0", section);
        GuestAssert.Contains("fsynced file kept", section);
        GuestAssert.Contains("stop rc=0", section);
    }
}

/// <summary>The one guest boot behind <see cref="DeviceInUseTests"/>, with systemd as PID 1 (the unit's part needs it;
/// the other daemons are started by hand from the script).</summary>
public sealed class DeviceInUseRun : GuestScriptRun
{
    protected override TimeSpan Timeout => TimeSpan.FromMinutes(12);

    protected override bool Systemd => true;

    protected override string Script => """bash "$S3BLOCK_REPO/tests/Vm.Tests/guest/device-in-use.sh" """;
}
