using System.Text.RegularExpressions;

namespace S3Block.Tests.Vm;

/// <summary>
/// <c>s3block run</c> end to end in the 6.12 guest with the embedded local store: a filesystem survives a clean stop
/// and start, a kill -9 under a mounted filesystem (the restarted daemon re-attaches the device), and the loss of all
/// local state (the volume read back from the store alone is a consistent filesystem). One boot serves every test.
/// </summary>
public sealed class DaemonRunTests(DaemonRun run) : IClassFixture<DaemonRun>
{
    [Fact]
    public void Create_then_run_serves_the_volume_on_a_ublk_device()
    {
        Assert.Contains("created volume vol1: 1GiB", run["create"], StringComparison.Ordinal);
        Assert.Matches(@"^ready: serving volume vol1 on /dev/ublkb\d+ \(created", run["run1"]);
    }

    [Fact]
    public void A_clean_stop_uploads_everything_and_deletes_the_device()
    {
        var section = run["stop1"];
        Assert.Contains("rc=0", section, StringComparison.Ordinal);
        Assert.Contains("stopped: volume vol1 is in S3", section, StringComparison.Ordinal);
        Assert.Contains("devices left=0", section, StringComparison.Ordinal);
        Assert.Matches(@"chunk objects=[1-9]\d*", section);
    }

    [Fact]
    public void Files_written_before_a_stop_read_back_after_a_new_start()
    {
        Assert.Contains("files=30", run["run1"], StringComparison.Ordinal);
        Assert.Contains("tree same", run["run2"], StringComparison.Ordinal);
    }

    [Fact]
    public void Kill_9_under_a_mounted_filesystem_is_recovered_without_losing_fsynced_files()
    {
        var section = run["crash"];
        Assert.Contains("disk kept", section, StringComparison.Ordinal);
        Assert.Matches(@"ready: serving volume vol1 on /dev/ublkb\d+ \(recovered", section);
        Assert.Contains("fsynced files same", section, StringComparison.Ordinal);
        Assert.Contains("fsck rc=0", section, StringComparison.Ordinal);
    }

    [Fact]
    public void Status_shows_what_is_not_in_S3_and_flush_uploads_it_with_progress()
    {
        var section = run["status-flush"];
        Assert.Matches(@"volume:\s+vol1 \(1GiB, chunks of 1MiB\)", section);
        Assert.Matches(@"lease:\s+held by \S+ pid \d+, epoch \d+", section);
        Assert.Matches(@"device:\s+/dev/ublkb\d+", section);
        Assert.Matches(@"not in S3:\s+8MiB, oldest \d+\.\d s", section);
        Assert.Contains("status rc=0", section, StringComparison.Ordinal);
        Assert.Contains("flushed: everything written to vol1 before this command is in S3", section, StringComparison.Ordinal);
        Assert.Contains("flush rc=0", section, StringComparison.Ordinal);
        Assert.Matches(@"not in S3:\s+0, oldest 0\.0 s", section);
        Assert.DoesNotContain("SecretKey", section, StringComparison.Ordinal);
    }

    [Fact]
    public void List_shows_the_volume_in_the_store_and_the_devices_on_this_host()
    {
        var section = run["status-flush"];
        Assert.Contains("list rc=0", section, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^vol1\s+1GiB\s+1MiB\s+\d+ .* pid \d+, epoch \d+", section);
        Assert.Matches(@"devices on this host: \d+", section);
        // The live device this section's daemon serves, and the one the kill -9 in lost-local left quiesced, whose
        // device record went with the local state.
        Assert.True(Regex.IsMatch(section, @"(?m)^\d+\s+/dev/ublkb\d+\s+live\s+1GiB\s+\d+x\d+\s+\d+\s+vol1\s+no\b"), section);
        Assert.True(Regex.IsMatch(section, @"(?m)^\d+\s+/dev/ublkb\d+\s+quiesced\s+1GiB\s+\d+x\d+\s+\d+ \(exited\)\s+-\s+no\b"), section);
    }

    [Fact]
    public void Sigterm_with_a_mounted_filesystem_leaves_the_device_for_recovery_without_io_errors()
    {
        var section = run["sigterm-mounted"];
        Assert.Contains("rc=0", section, StringComparison.Ordinal);
        Assert.Contains("is still mounted at /tmp/mnt", section, StringComparison.Ordinal);
        Assert.Contains("device kept", section, StringComparison.Ordinal);
        Assert.Matches(@"ready: serving volume vol1 on /dev/ublkb\d+ \(recovered", section);
        Assert.Contains("before sigterm", section, StringComparison.Ordinal);
        Assert.Contains("fs writable", section, StringComparison.Ordinal);
        Assert.Contains("fsck rc=0", section, StringComparison.Ordinal);
        Assert.Contains("stop rc=0", section, StringComparison.Ordinal);
    }

    [Fact]
    public void Recover_reattaches_a_crashed_daemons_device_and_delete_removes_leftover_devices()
    {
        var section = run["recover-delete"];
        Assert.Contains("recover without device rc=1", section, StringComparison.Ordinal);
        Assert.Contains("s3block: volume vol1 has no device on this host to recover", section, StringComparison.Ordinal);
        Assert.Matches(@"ready: serving volume vol1 on /dev/ublkb\d+ \(recovered", section);
        Assert.Contains("delete rc=0", section, StringComparison.Ordinal);
        Assert.DoesNotContain("delete rc=1", section, StringComparison.Ordinal);
        Assert.Contains("devices left=0", section, StringComparison.Ordinal);
        Assert.Contains("s3block: there is no ublk device 42", section, StringComparison.Ordinal);
        Assert.Contains("delete missing rc=1", section, StringComparison.Ordinal);
    }

    [Fact]
    public void After_losing_all_local_state_the_volume_from_the_store_alone_is_a_clean_filesystem()
    {
        var section = run["lost-local"];
        Assert.Contains("local state deleted", section, StringComparison.Ordinal);
        Assert.Matches(@"ready: serving volume vol1 on /dev/ublkb\d+ \(created", section);
        Assert.Contains("fsck rc=0", section, StringComparison.Ordinal);
        Assert.Contains("tree same", section, StringComparison.Ordinal);
    }
}

/// <summary>The one guest boot behind <see cref="DaemonRunTests"/>.</summary>
public sealed class DaemonRun : GuestScriptRun
{
    protected override TimeSpan Timeout => TimeSpan.FromMinutes(15);

    protected override string Script => """
        set -u
        S3="$S3BLOCK_BIN"
        . "$S3BLOCK_REPO/tests/vm/guest-lib.sh"
        mkdir -p /tmp/work /tmp/mnt && cd /tmp/work
        RUN_OPTS="--set Volume:CommitInterval=00:00:01 --set Metrics:Enabled=false"

        section create
        "$S3" create vol1 --size 1GiB --chunk-size 1MiB; echo "rc=$?"

        section run1
        "$S3" run vol1 $RUN_OPTS >/tmp/r1.out 2>/tmp/r1.err &
        R=$!
        wait_ready /tmp/r1.out /tmp/r1.err
        DEV=$(device_of /tmp/r1.out)
        make_tree /tmp/tree
        sums /tmp/tree >/tmp/tree.md5; echo "files=$(wc -l </tmp/tree.md5)"
        mkfs.ext4 -q -F "$DEV" && mount "$DEV" /tmp/mnt && cp -a /tmp/tree/. /tmp/mnt/ && sync && umount /tmp/mnt && echo "written"

        section stop1
        kill -TERM "$R"; wait "$R"; echo "rc=$?"
        grep '^stopped' /tmp/r1.out
        echo "devices left=$(ls /dev/ublkb* 2>/dev/null | wc -l)"
        echo "chunk objects=$(find data/store -path '*chunks.d*' -type f | wc -l)"

        section run2
        "$S3" run vol1 $RUN_OPTS >/tmp/r2.out 2>/tmp/r2.err &
        R=$!
        wait_ready /tmp/r2.out /tmp/r2.err
        DEV=$(device_of /tmp/r2.out)
        mount "$DEV" /tmp/mnt && sums /tmp/mnt | grep -v crash >/tmp/got.md5 && { cmp -s /tmp/tree.md5 /tmp/got.md5 && echo "tree same" || echo "tree differ"; }

        section crash
        for i in $(seq 1 10); do dd if=/dev/urandom of="/tmp/mnt/crash$i" bs=64k count=4 conv=fsync status=none; done
        (cd /tmp/mnt && md5sum crash*) >/tmp/crash.md5
        kill -9 "$R"; wait "$R" 2>/dev/null
        sleep 1; [ -b "$DEV" ] && echo "disk kept"
        "$S3" run vol1 $RUN_OPTS >/tmp/r3.out 2>/tmp/r3.err &
        R=$!
        wait_ready /tmp/r3.out /tmp/r3.err
        (cd /tmp/mnt && md5sum crash*) >/tmp/crash2.md5
        cmp -s /tmp/crash.md5 /tmp/crash2.md5 && echo "fsynced files same" || echo "fsynced files differ"
        umount /tmp/mnt
        fsck.ext4 -n -f "$DEV" >/tmp/fsck1.txt 2>&1; echo "fsck rc=$?"
        kill -TERM "$R"; wait "$R"; echo "stop rc=$?"

        section lost-local
        "$S3" run vol1 $RUN_OPTS >/tmp/r4.out 2>/tmp/r4.err &
        R=$!
        wait_ready /tmp/r4.out /tmp/r4.err >/dev/null
        DEV=$(device_of /tmp/r4.out)
        mount "$DEV" /tmp/mnt && for i in $(seq 1 10); do dd if=/dev/urandom of="/tmp/mnt/late$i" bs=128k count=4 conv=fsync status=none; done
        sync; umount /tmp/mnt
        kill -9 "$R"; wait "$R" 2>/dev/null
        rm -rf data/state/vol1 && echo "local state deleted"
        "$S3" run vol1 $RUN_OPTS --force-takeover >/tmp/r5.out 2>/tmp/r5.err &
        R=$!
        wait_ready /tmp/r5.out /tmp/r5.err
        DEV=$(device_of /tmp/r5.out)
        fsck.ext4 -n -f "$DEV" >/tmp/fsck2.txt 2>&1; echo "fsck rc=$?"
        mount "$DEV" /tmp/mnt && sums /tmp/mnt | grep -v -e crash -e late >/tmp/got2.md5 && { cmp -s /tmp/tree.md5 /tmp/got2.md5 && echo "tree same" || echo "tree differ"; }
        umount /tmp/mnt
        kill -TERM "$R"; wait "$R"; echo "stop rc=$?"

        section status-flush
        "$S3" run vol1 --set Volume:CommitInterval=01:00:00 >/tmp/s.out 2>/tmp/s.err &
        R=$!
        wait_ready /tmp/s.out /tmp/s.err >/dev/null
        DEV=$(device_of /tmp/s.out)
        dd if=/dev/urandom of="$DEV" bs=1M count=8 oflag=direct status=none
        "$S3" status vol1 2>&1; echo "status rc=$?"
        "$S3" list 2>&1; echo "list rc=$?"
        "$S3" flush vol1 2>&1 | tail -1; echo "flush rc=${PIPESTATUS[0]}"
        "$S3" status vol1 2>&1 | grep 'not in S3'
        kill -TERM "$R"; wait "$R"; echo "stop rc=$?"

        section sigterm-mounted
        "$S3" run vol1 $RUN_OPTS >/tmp/m1.out 2>/tmp/m1.err &
        R=$!
        wait_ready /tmp/m1.out /tmp/m1.err >/dev/null
        DEV=$(device_of /tmp/m1.out)
        # A filesystem of its own: the status-flush section wrote raw data over the start of the device.
        mkfs.ext4 -q -F "$DEV" && mount "$DEV" /tmp/mnt && echo "before sigterm" >/tmp/mnt/kept && sync
        kill -TERM "$R"; wait "$R"; echo "rc=$?"
        grep -h "still mounted" /tmp/m1.out /tmp/m1.err | head -1
        [ -b "$DEV" ] && echo "device kept"
        "$S3" recover vol1 $RUN_OPTS >/tmp/m2.out 2>/tmp/m2.err &
        R=$!
        wait_ready /tmp/m2.out /tmp/m2.err
        cat /tmp/mnt/kept && echo "after recover" >/tmp/mnt/after && sync && echo "fs writable"
        umount /tmp/mnt
        fsck.ext4 -n -f "$DEV" >/dev/null 2>&1; echo "fsck rc=$?"
        kill -TERM "$R"; wait "$R"; echo "stop rc=$?"

        section recover-delete
        "$S3" recover vol1 $RUN_OPTS >/tmp/r6.out 2>&1; echo "recover without device rc=$?"
        grep -h '^s3block:' /tmp/r6.out
        "$S3" run vol1 $RUN_OPTS >/tmp/r7.out 2>/tmp/r7.err &
        R=$!
        wait_ready /tmp/r7.out /tmp/r7.err >/dev/null
        kill -9 "$R"; wait "$R" 2>/dev/null
        "$S3" recover vol1 $RUN_OPTS >/tmp/r8.out 2>/tmp/r8.err &
        R=$!
        wait_ready /tmp/r8.out /tmp/r8.err
        kill -9 "$R"; wait "$R" 2>/dev/null
        for dev in /dev/ublkb*; do "$S3" delete "${dev#/dev/ublkb}"; echo "delete rc=$?"; done
        echo "devices left=$(ls /dev/ublkb* 2>/dev/null | wc -l)"
        "$S3" delete 42 2>&1; echo "delete missing rc=$?"
        section end
        """;
}
