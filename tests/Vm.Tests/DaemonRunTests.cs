using System.Text.RegularExpressions;

namespace S3Block.Tests.Vm;

/// <summary>
/// <c>s3block run</c> end to end in the 6.12 guest with the embedded local store: a filesystem survives a clean stop
/// and start, a kill -9 under a mounted filesystem (the restarted daemon re-attaches the device), and the loss of all
/// local state (the volume read back from the store alone is a consistent filesystem), and IO_FLUSHER on every thread
/// with the tag buffers locked. One boot serves every test.
/// </summary>
public sealed class DaemonRunTests(DaemonRun run) : IClassFixture<DaemonRun>
{
    [Fact]
    public void Create_then_run_serves_the_volume_on_a_ublk_device()
    {
        GuestAssert.Contains("created volume vol1: 1GiB", run["create"]);
        GuestAssert.Matches(@"^ready: serving volume vol1 on /dev/ublkb\d+ \(created", run["run1"]);
    }

    [Fact]
    public void A_clean_stop_uploads_everything_and_deletes_the_device()
    {
        var section = run["stop1"];
        GuestAssert.Contains("rc=0", section);
        GuestAssert.Contains("stopped: volume vol1 is in S3", section);
        GuestAssert.Contains("devices left=0", section);
        GuestAssert.Matches(@"chunk objects=[1-9]\d*", section);
    }

    [Fact]
    public void Files_written_before_a_stop_read_back_after_a_new_start()
    {
        GuestAssert.Contains("files=30", run["run1"]);
        GuestAssert.Contains("tree same", run["run2"]);
    }

    [Fact]
    public void Every_thread_of_the_daemon_has_IO_FLUSHER_and_its_tag_buffers_are_locked()
    {
        // Read by the guest script from /proc/PID/task/*/stat of the running daemon, after I/O through a filesystem.
        var section = run["io-flusher"];
        Match counts = Regex.Match(section, @"threads=(\d+) io_flusher=(\d+)");
        Assert.True(counts.Success, section);
        int threads = int.Parse(counts.Groups[1].Value);
        Assert.True(threads >= 10, $"only {threads} threads: not the daemon?\n{section}");
        Assert.Equal(threads, int.Parse(counts.Groups[2].Value));
        GuestAssert.DoesNotContain("without:", section);
        // The runtime's own threads (created before Main in the first image), the queue threads and the journal's
        // fdatasync thread, which every FLUSH waits on.
        foreach (string name in new[] { ".NET Finalizer", "ublk-q0", "ublk-q1", "journal-sync" })
        {
            GuestAssert.Contains("with: " + name, section);
        }

        // Device defaults: 2 queues x depth 128 x 1 MiB of tag buffers, all locked (MLOCK_ONFAULT counts the range).
        Match locked = Regex.Match(section, @"vmlck_kb=(\d+)");
        Assert.True(locked.Success && long.Parse(locked.Groups[1].Value) >= 2 * 128 * 1024, section);
        GuestAssert.Matches(@"IO_FLUSHER on (\d+) of \1 threads \(SetBeforeRuntime\); tag buffers locked in memory: 268435456 of 268435456 bytes", section);
        // The exec removed the first image's diagnostics socket, so the new runtime could create its own.
        GuestAssert.Contains("diagnostic sockets=1", section);
    }

    [Fact]
    public void A_recovering_daemon_also_starts_with_IO_FLUSHER_on_every_thread() =>
        GuestAssert.Matches(@"IO_FLUSHER on (\d+) of \1 threads \(SetBeforeRuntime\); tag buffers locked in memory: 268435456 of 268435456 bytes",
            run["io-flusher-recovered"]);

    [Fact]
    public void Kill_9_under_a_mounted_filesystem_is_recovered_without_losing_fsynced_files()
    {
        var section = run["crash"];
        GuestAssert.Contains("disk kept", section);
        GuestAssert.Matches(@"ready: serving volume vol1 on /dev/ublkb\d+ \(recovered", section);
        GuestAssert.Contains("fsynced files same", section);
        GuestAssert.Contains("fsck rc=0", section);
    }

    [Fact]
    public void Status_shows_what_is_not_in_S3_and_flush_uploads_it_with_progress()
    {
        var section = run["status-flush"];
        GuestAssert.Matches(@"volume:\s+vol1 \(1GiB, chunks of 1MiB\)", section);
        GuestAssert.Matches(@"lease:\s+held by \S+ pid \d+, epoch \d+", section);
        GuestAssert.Matches(@"device:\s+/dev/ublkb\d+", section);
        GuestAssert.Matches(@"not in S3:\s+8MiB, oldest \d+\.\d s", section);
        GuestAssert.Contains("status rc=0", section);
        GuestAssert.Contains("flushed: everything written to vol1 before this command is in S3", section);
        GuestAssert.Contains("flush rc=0", section);
        GuestAssert.Matches(@"not in S3:\s+0, oldest 0\.0 s", section);
        GuestAssert.DoesNotContain("SecretKey", section);
    }

    [Fact]
    public void List_shows_the_volume_in_the_store_and_the_devices_on_this_host()
    {
        var section = run["status-flush"];
        GuestAssert.Contains("list rc=0", section);
        GuestAssert.Matches(@"(?m)^vol1\s+1GiB\s+1MiB\s+\d+ .* pid \d+, epoch \d+", section);
        GuestAssert.Matches(@"devices on this host: \d+", section);
        // The live device this section's daemon serves, and the one the kill -9 in lost-local left quiesced, whose
        // binding went with the local state: an S3Block device no volume claims any more (never re-attached).
        GuestAssert.Matches(@"(?m)^\d+\s+/dev/ublkb\d+\s+live\s+1GiB\s+\d+x\d+\s+\d+\s+vol1\s+no\b", section);
        GuestAssert.Matches(@"(?m)^\d+\s+/dev/ublkb\d+\s+quiesced\s+1GiB\s+\d+x\d+\s+\d+ \(exited\)\s+\(s3block, unclaimed\)\s+no\b", section);
        GuestAssert.Contains("list without io_uring rc=0", section);
        GuestAssert.Contains("(state, queues and pid unknown: io_uring is disabled for this process (sysctl kernel.io_uring_disabled)", section);
    }

    [Fact]
    public void Sigterm_with_a_mounted_filesystem_leaves_the_device_for_recovery_without_io_errors()
    {
        var section = run["sigterm-mounted"];
        GuestAssert.Contains("rc=3", section); // ExitCodes.DeviceLeftAttached
        GuestAssert.Matches(@"is still in use: /dev/ublkb\d+ is mounted at /tmp/mnt", section);
        GuestAssert.Contains("device kept", section);
        GuestAssert.Matches(@"ready: serving volume vol1 on /dev/ublkb\d+ \(recovered", section);
        GuestAssert.Contains("before sigterm", section);
        GuestAssert.Contains("fs writable", section);
        GuestAssert.Contains("fsck rc=0", section);
        GuestAssert.Contains("stop rc=0", section);
    }

    [Fact]
    public void Recover_reattaches_a_crashed_daemons_device_and_delete_removes_leftover_devices()
    {
        var section = run["recover-delete"];
        GuestAssert.Contains("recover without device rc=1", section);
        GuestAssert.Contains("s3block: volume vol1 has no device on this host to recover", section);
        GuestAssert.Matches(@"ready: serving volume vol1 on /dev/ublkb\d+ \(recovered", section);
        GuestAssert.Contains("delete rc=0", section);
        GuestAssert.DoesNotContain("delete rc=1", section);
        GuestAssert.Contains("devices left=0", section);
        GuestAssert.Contains("s3block: there is no ublk device 42", section);
        GuestAssert.Contains("delete missing rc=1", section);
    }

    [Fact]
    public void After_losing_all_local_state_the_volume_from_the_store_alone_is_a_clean_filesystem()
    {
        var section = run["lost-local"];
        GuestAssert.Contains("local state deleted", section);
        GuestAssert.Matches(@"ready: serving volume vol1 on /dev/ublkb\d+ \(created", section);
        GuestAssert.Contains("fsck rc=0", section);
        GuestAssert.Contains("tree same", section);
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
        start_daemon r1 run vol1 $RUN_OPTS
        make_tree /tmp/tree
        sums /tmp/tree >/tmp/tree.md5; echo "files=$(wc -l </tmp/tree.md5)"
        mkfs.ext4 -q -F "$DEV" && mount "$DEV" /tmp/mnt && cp -a /tmp/tree/. /tmp/mnt/ && sync && umount /tmp/mnt && echo "written"

        section stop1
        kill -TERM "$R"; wait "$R"; echo "rc=$?"
        grep '^stopped' /tmp/r1.out
        echo "devices left=$(ls /dev/ublkb* 2>/dev/null | wc -l)"
        echo "chunk objects=$(find data/store -path '*chunks.d*' -type f | wc -l)"

        section run2
        start_daemon r2 run vol1 $RUN_OPTS
        mount "$DEV" /tmp/mnt && sums /tmp/mnt | grep -v crash >/tmp/got.md5 && { cmp -s /tmp/tree.md5 /tmp/got.md5 && echo "tree same" || echo "tree differ"; }

        section io-flusher
        io_flusher_report "$R"
        grep -h -o 'IO_FLUSHER on .*' /tmp/r2.out /tmp/r2.err | head -1
        echo "diagnostic sockets=$(ls /tmp/dotnet-diagnostic-"$R"-*-socket 2>/dev/null | wc -l)"

        section crash
        for i in $(seq 1 10); do dd if=/dev/urandom of="/tmp/mnt/crash$i" bs=64k count=4 conv=fsync status=none; done
        (cd /tmp/mnt && md5sum crash*) >/tmp/crash.md5
        kill -9 "$R"; wait "$R" 2>/dev/null
        sleep 1; [ -b "$DEV" ] && echo "disk kept"
        start_daemon r3 run vol1 $RUN_OPTS
        (cd /tmp/mnt && md5sum crash*) >/tmp/crash2.md5
        cmp -s /tmp/crash.md5 /tmp/crash2.md5 && echo "fsynced files same" || echo "fsynced files differ"
        umount /tmp/mnt
        fsck.ext4 -n -f "$DEV" >/tmp/fsck1.txt 2>&1; echo "fsck rc=$?"
        kill -TERM "$R"; wait "$R"; echo "stop rc=$?"

        section io-flusher-recovered
        grep -h -o 'IO_FLUSHER on .*' /tmp/r3.out /tmp/r3.err | head -1

        section lost-local
        start_daemon r4 run vol1 $RUN_OPTS >/dev/null
        mount "$DEV" /tmp/mnt && for i in $(seq 1 10); do dd if=/dev/urandom of="/tmp/mnt/late$i" bs=128k count=4 conv=fsync status=none; done
        sync; umount /tmp/mnt
        kill -9 "$R"; wait "$R" 2>/dev/null
        end_guard vol1 # the lost disk takes it with it
        rm -rf data/state/vol1 && echo "local state deleted"
        start_daemon r5 run vol1 $RUN_OPTS --force-takeover
        fsck.ext4 -n -f "$DEV" >/tmp/fsck2.txt 2>&1; echo "fsck rc=$?"
        mount "$DEV" /tmp/mnt && sums /tmp/mnt | grep -v -e crash -e late >/tmp/got2.md5 && { cmp -s /tmp/tree.md5 /tmp/got2.md5 && echo "tree same" || echo "tree differ"; }
        umount /tmp/mnt
        kill -TERM "$R"; wait "$R"; echo "stop rc=$?"

        section status-flush
        start_daemon s run vol1 --set Volume:CommitInterval=01:00:00 >/dev/null
        dd if=/dev/urandom of="$DEV" bs=1M count=8 oflag=direct status=none
        "$S3" status vol1 2>&1; echo "status rc=$?"
        "$S3" list 2>&1; echo "list rc=$?"
        # With io_uring disabled the driver cannot be asked; list still answers, from sysfs, and says why.
        echo 2 >/proc/sys/kernel/io_uring_disabled
        "$S3" list >/tmp/list-no-uring.txt 2>&1; echo "list without io_uring rc=$?"
        echo 0 >/proc/sys/kernel/io_uring_disabled
        grep -e '^(state' -e '^s3block:' -e 'Exception' /tmp/list-no-uring.txt
        "$S3" flush vol1 2>&1 | tail -1; echo "flush rc=${PIPESTATUS[0]}"
        "$S3" status vol1 2>&1 | grep 'not in S3'
        kill -TERM "$R"; wait "$R"; echo "stop rc=$?"

        section sigterm-mounted
        start_daemon m1 run vol1 $RUN_OPTS >/dev/null
        # A filesystem of its own: the status-flush section wrote raw data over the start of the device.
        mkfs.ext4 -q -F "$DEV" && mount "$DEV" /tmp/mnt && echo "before sigterm" >/tmp/mnt/kept && sync
        kill -TERM "$R"; wait "$R"; echo "rc=$?"
        grep -h "still in use" /tmp/m1.out /tmp/m1.err | head -1
        [ -b "$DEV" ] && echo "device kept"
        start_daemon m2 recover vol1 $RUN_OPTS
        cat /tmp/mnt/kept && echo "after recover" >/tmp/mnt/after && sync && echo "fs writable"
        umount /tmp/mnt
        fsck.ext4 -n -f "$DEV" >/dev/null 2>&1; echo "fsck rc=$?"
        kill -TERM "$R"; wait "$R"; echo "stop rc=$?"

        section recover-delete
        "$S3" recover vol1 $RUN_OPTS >/tmp/r6.out 2>&1; echo "recover without device rc=$?"
        grep -h '^s3block:' /tmp/r6.out
        start_daemon r7 run vol1 $RUN_OPTS >/dev/null
        kill -9 "$R"; wait "$R" 2>/dev/null
        start_daemon r8 recover vol1 $RUN_OPTS
        kill -9 "$R"; wait "$R" 2>/dev/null
        for dev in /dev/ublkb*; do "$S3" delete "${dev#/dev/ublkb}"; echo "delete rc=$?"; done
        echo "devices left=$(ls /dev/ublkb* 2>/dev/null | wc -l)"
        "$S3" delete 42 2>&1; echo "delete missing rc=$?"
        section end
        """;
}
