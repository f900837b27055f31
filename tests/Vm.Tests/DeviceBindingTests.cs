namespace S3Block.Tests.Vm;

/// <summary>
/// Device binding (issue 10, point 1) with the real driver in the 6.12 guest: two volumes on one host, each with a
/// mounted ext4; device records swapped, or left from a "previous boot" whose ids were handed out differently, next to a
/// foreign server's quiesced device of the same size; a dead device of a volume. Each daemon re-attaches its own device
/// or gets a fresh one, never another's; the file trees' checksums match. One boot (<c>tests/Vm.Tests/device-binding.sh</c>).
/// </summary>
public sealed class DeviceBindingTests(DeviceBindingRun run) : IClassFixture<DeviceBindingRun>
{
    [Fact]
    public void Each_volumes_device_carries_its_own_owner_tag_and_list_shows_the_binding()
    {
        var section = run["setup"];
        GuestAssert.Contains("a: ext4 on /dev/ublkb", section);
        GuestAssert.Contains("b: ext4 on /dev/ublkb", section);
        GuestAssert.DoesNotContain("the two trees are the same", section);
        GuestAssert.Matches(@"(?m)^\s*""ownerTag"": ""0x5342[0-9a-f]{12}"",\s*$", section);
        GuestAssert.Matches(@"list va: \d+\s+/dev/ublkb\d+\s+live\s+256MiB\s+\S+\s+\d+\s+va\s+/tmp/ma", section);
        GuestAssert.Matches(@"list vb: \d+\s+/dev/ublkb\d+\s+live\s+256MiB\s+\S+\s+\d+\s+vb\s+/tmp/mb", section);
    }

    [Fact]
    public void Swapped_records_after_a_crash_each_daemon_recovers_its_own_device_under_its_mounted_filesystem()
    {
        var section = run["swapped"];
        GuestAssert.Matches(@"after kill va: .*\bquiesced\b.*\bva\s+/tmp/ma", section);
        GuestAssert.Matches(@"after kill vb: .*\bquiesced\b.*\bvb\s+/tmp/mb", section);
        GuestAssert.Contains("records swapped", section);
        GuestAssert.Matches(@"ready: serving volume va on /dev/ublkb\d+ \(recovered", section);
        GuestAssert.Matches(@"ready: serving volume vb on /dev/ublkb\d+ \(recovered", section);
        GuestAssert.Contains("va re-attached its own device", section);
        GuestAssert.Contains("vb re-attached its own device", section);
        GuestAssert.Matches(@"log: The device record of volume va is not followed: it is another volume's \(volume id [0-9a-f-]{36}, binding [0-9a-f-]{36} \(owner tag 0x5342[0-9a-f]{12}\), device \d+\)", section);
        GuestAssert.DoesNotContain("hung:", section);
        GuestAssert.Contains("va tree same", section);
        GuestAssert.Contains("vb tree same", section);
        GuestAssert.Contains("a writable", section);
        GuestAssert.Contains("b writable", section);
        GuestAssert.Matches(@"list va: .*\blive\b.*\bva\s+/tmp/ma", section);
        GuestAssert.Matches(@"list vb: .*\blive\b.*\bvb\s+/tmp/mb", section);
    }

    [Fact]
    public void After_a_reboot_with_ids_handed_out_differently_no_daemon_touches_another_volumes_or_a_foreign_device()
    {
        var section = run["reboot"];
        GuestAssert.Contains("unmounted", section);
        GuestAssert.Contains("va stop rc=0", section);
        GuestAssert.Contains("vb stop rc=0", section);
        GuestAssert.Contains("devices left=0", section);
        GuestAssert.Matches(@"foreign: \d+\s+/dev/ublkb\d+\s+quiesced\s+256MiB\s+.*\(exited\)\s+\(not s3block\)", section);
        GuestAssert.Matches(@"ready: serving volume vb on /dev/ublkb\d+ \(created", section);
        GuestAssert.Matches(@"ready: serving volume va on /dev/ublkb\d+ \(created", section);
        GuestAssert.Contains("vb got va's old id", section);
        GuestAssert.Contains("va got a device of its own", section);
        GuestAssert.Contains("is from another boot (00000000-0000-4000-8000-000000000000", section);
        GuestAssert.Matches(@"foreign after: \d+\s+/dev/ublkb\d+\s+quiesced\s+256MiB\s+.*\(exited\)\s+\(not s3block\)", section);
        GuestAssert.Matches(@"list vb: .*\blive\b.*\bvb\s+no\b", section);
        GuestAssert.Matches(@"list va: .*\blive\b.*\bva\s+no\b", section);
        GuestAssert.Contains("va tree same", section);
        GuestAssert.Contains("vb tree same", section);
        GuestAssert.Contains("va fsck rc=0", section);
        GuestAssert.Contains("vb fsck rc=0", section);
        GuestAssert.Contains("foreign delete rc=0", section);
        Assert.EndsWith("devices left=0", section, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dead_device_of_the_volume_is_deleted_and_a_new_one_created()
    {
        var section = run["dead"];
        GuestAssert.Matches(@"attempt \d: /dev/ublkb\d+ dead", section);
        GuestAssert.Matches(@"dead device of va: /dev/ublkb\d+: \d+\s+/dev/ublkb\d+\s+dead\s+.*\bva\b", section);
        GuestAssert.Matches(@"log: Deleting /dev/ublkb\d+: a dead device of volume va", section);
        GuestAssert.Matches(@"ready: serving volume va on /dev/ublkb\d+ \(created", section);
        GuestAssert.Contains("dead devices left=0", section);
        GuestAssert.Contains("va tree same", section);
        GuestAssert.Contains("va stop rc=0", section);
        Assert.EndsWith("devices left=0", section, StringComparison.Ordinal);
    }
}

/// <summary>The one guest boot behind <see cref="DeviceBindingTests"/>.</summary>
public sealed class DeviceBindingRun : GuestScriptRun
{
    protected override TimeSpan Timeout => TimeSpan.FromMinutes(12);

    protected override string Script => """bash "$S3BLOCK_REPO/tests/Vm.Tests/device-binding.sh" """;
}
