using System.Globalization;
using System.Text.RegularExpressions;

namespace S3Block.Tests.Vm;

/// <summary>
/// The durability contract of <c>s3block run</c> (issue 9) in the 6.12 guest, with the daemon's state (journal, cache,
/// embedded local store) on ext4 over a real virtio disk: kill -9 loops under fio's crc32c verify on the raw device and
/// under ext4 with fsync churn; the state filesystem filling up under writes; the state device failing every write
/// (dm-flakey) and the next start after it is healthy. One boot (<c>tests/Vm.Tests/daemon-durability.sh</c>).
/// </summary>
public sealed class DaemonDurabilityTests(DaemonDurabilityRun run) : IClassFixture<DaemonDurabilityRun>
{
    [Fact]
    public void The_state_lives_on_ext4_over_device_mapper_on_a_virtio_disk()
    {
        var section = run["setup"];
        GuestAssert.Matches(@"seed=\d+", section);
        GuestAssert.Contains("state filesystems mounted", section);
    }

    [Fact]
    public void Kill_9_loops_under_fio_verify_lose_no_completed_write()
    {
        var section = run["kill-fio"];
        GuestAssert.Matches(@"ready: serving volume vk on /dev/ublkb\d+ \(created", section);
        GuestAssert.DoesNotContain("never got ready", section);
        Assert.True(Number(section, @"kill rounds=(\d+)") >= 20, $"fewer than 20 kill rounds:\n{section}");
        GuestAssert.Contains("stalls=0", section);
        Assert.True(Number(section, @"at a random moment of a start-up=(\d+)") >= 3, $"fewer than 3 kills during a start-up:\n{section}");
        GuestAssert.Matches(@"writes completed=[1-9]\d* bytes=234881024 verify reads=[1-9]\d*", section); // 2 jobs x 112 MiB
        GuestAssert.Contains("fio total_err=0 job errors=[0, 0]", section);
        GuestAssert.Contains("verify errors=0", section);
        GuestAssert.Contains("fio rc=0", section);
    }

    [Fact]
    public void Kill_9_under_ext4_with_fsync_churn_keeps_every_fsynced_file_and_fsck_is_clean()
    {
        var section = run["kill-ext4"];
        GuestAssert.Contains("ext4 kill rounds=3", section);
        GuestAssert.DoesNotContain("never got ready", section);
        GuestAssert.DoesNotContain("stalled", section);
        GuestAssert.Matches(@"writer files=[1-9]\d* failures=0", section);
        GuestAssert.Contains("fio total_err=0 job errors=[0, 0]", section);
        GuestAssert.Contains("verify errors=0", section);
        GuestAssert.Contains("fio rc=0", section);
        GuestAssert.Contains("fsck rc=0", section);
        GuestAssert.Contains("fsynced files intact", section);
        GuestAssert.Contains("stop rc=0", section);
    }

    [Fact]
    public void A_full_state_disk_slows_writes_without_an_io_error_and_everything_drains_once_space_returns()
    {
        var section = run["full-disk"];
        GuestAssert.Contains("ext4 mounted", section);
        GuestAssert.Contains("state filesystem full=yes", section);
        GuestAssert.Contains("while full: s3block_volume_faulted=0", section);
        GuestAssert.Contains("filler deleted", section);
        GuestAssert.Contains("writer files=32 failures=0", section);
        GuestAssert.Matches(@"drained: not in S3 0 bytes", section);
        GuestAssert.Contains("fsck rc=0", section);
        GuestAssert.Contains("data checksums match", section);
        GuestAssert.Contains("kernel I/O errors on the device=0", section);
        GuestAssert.Contains("volume faults=0", section);
        GuestAssert.Contains("stop rc=0", section);
    }

    [Fact]
    public void A_failing_journal_device_is_reported_in_the_log_the_metrics_and_status()
    {
        var section = run["eio"];
        GuestAssert.Contains("writes flowing", section);
        GuestAssert.Contains("journal device now fails every write", section);
        GuestAssert.Matches(@"(?m)^log: .*(fdatasync|[Ii]nput/output error|EIO)", section);
        GuestAssert.Contains("metric s3block_volume_faulted=1", section);
        GuestAssert.Matches(@"status: faulted:\s+YES", section);
    }

    [Fact]
    public void After_a_failed_fdatasync_the_next_start_refuses_to_treat_unsynced_data_as_durable()
    {
        var section = run["eio"];
        GuestAssert.Contains("journal device healthy again", section);
        GuestAssert.Matches(@"restart rc=[1-9]\d*", section);
        GuestAssert.Matches(@"(?m)^\| .*(fdatasync.*vol-eio|vol-eio.*fdatasync)", section);
    }

    private static int Number(string section, string pattern)
    {
        var match = Regex.Match(section, pattern);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
    }
}

/// <summary>The one guest boot behind <see cref="DaemonDurabilityTests"/>, with a 3.5 GiB virtio disk.</summary>
public sealed class DaemonDurabilityRun : GuestScriptRun
{
    protected override TimeSpan Timeout => TimeSpan.FromMinutes(20);

    protected override long DiskBytes => 3584L << 20;

    protected override string Script => """bash "$S3BLOCK_REPO/tests/Vm.Tests/daemon-durability.sh" """;
}
