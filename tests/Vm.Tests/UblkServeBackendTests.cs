using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;

namespace S3Block.Tests.Vm;

/// <summary>
/// The ublk server end to end in the 6.12 guest, through <c>s3block serve-backend</c>: create, limits, data, fio
/// verify, memory backend inline on unpinned queue threads and the file backend on the thread pool with pinned
/// queue threads, IO_FLUSHER on the queue threads, kill -9 + recover, FLUSH/FUA/DISCARD/WRITE_ZEROES reaching the
/// backend, clean SIGTERM, and the file backend across restarts. One guest boot (see <see cref="UblkServeBackendRun"/>)
/// serves every test; each asserts on its own section of the output.
/// </summary>
public sealed class UblkServeBackendTests(UblkServeBackendRun run) : IClassFixture<UblkServeBackendRun>
{
    private const uint PfMemallocNoio = 0x00080000;
    private const uint PfLocalThrottle = 0x00100000;

    [Fact]
    public void Creates_a_disk_of_the_requested_size()
    {
        GuestAssert.Matches(@"^ready: /dev/ublkb0 \(id 0, 1073741824 bytes, pid \d+\)", run["create"]);
        Assert.Equal("1073741824", run["size"]);
    }

    [Fact]
    public void Advertises_write_back_cache_fua_and_discard()
    {
        var limits = run["limits"].Split('\n').Select(l => l.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        Assert.Equal("write back", limits["write_cache"]); // VOLATILE_CACHE: the kernel sends FLUSH
        Assert.Equal("1", limits["fua"]);
        Assert.Equal("512", limits["logical_block_size"]);
        Assert.Equal("4096", limits["physical_block_size"]);
        Assert.Equal("1024", limits["max_sectors_kb"]);
        Assert.Equal("1048576", limits["optimal_io_size"]);
        Assert.Equal("4096", limits["discard_granularity"]);
        Assert.NotEqual("0", limits["write_zeroes_max_bytes"]);
        Assert.Equal("0", limits["rotational"]);
        Assert.Equal("2", limits["queues"]);
    }

    [Fact]
    public void A_taken_device_id_is_refused_clearly()
    {
        GuestAssert.Contains("ublk device id 0 is already taken (EEXIST)", run["duplicate"]);
        GuestAssert.Contains("rc=1", run["duplicate"]);
    }

    [Fact]
    public void Data_reads_back_byte_for_byte() => Assert.Equal("same", run["dd"]);

    [Fact]
    public void Fio_crc32c_verify_passes_on_two_queues_at_depth_32()
    {
        GuestAssert.Contains("fio rc=0", run["fio-verify"]);
        GuestAssert.DoesNotContain("bad magic", run["fio-verify"]);
    }

    [Fact]
    public void The_memory_backend_runs_on_the_queue_threads_inline()
    {
        // The fio verify above ran on this device: both queues took the inline path.
        string section = run["dispatch"];
        Assert.Equal(["queue 0 of device 0 inline", "queue 1 of device 0 inline"], section.Split('\n', StringSplitOptions.TrimEntries).Order());
        // Every request of the recovered memory-backed device was served inline, none on the thread pool.
        string stats = run["sigterm"];
        long served = Count(stats, @"reads (\d+)") + Count(stats, @"writes (\d+)") + Count(stats, @"flushes (\d+)")
            + Count(stats, @"discards (\d+)") + Count(stats, @"write-zeroes (\d+)");
        Assert.True(served > 0, stats);
        Assert.Equal(served, Count(stats, @"inline (\d+)"));
    }

    [Fact]
    public void The_file_backend_stays_on_the_thread_pool()
    {
        string stats = run["file-backend-stats"];
        Assert.True(Count(stats, @"reads (\d+)") > 0, stats);
        Assert.Equal(0, Count(stats, @"inline (\d+)"));
    }

    [Fact]
    public void The_library_serves_a_backend_of_its_own()
    {
        // samples/RamDisk references src/Ublk.Server alone (docs/architecture.md).
        string section = run["library-sample"];
        GuestAssert.Matches(@"ready: /dev/ublkb\d+ \(67108864 bytes\)", section);
        GuestAssert.Contains("sample data same", section);
        GuestAssert.Contains("sample rc=0", section);
        GuestAssert.Contains("sample device removed", section);
    }

    [Fact]
    public void Queue_threads_are_io_flushers()
    {
        string section = run["flags"];
        var threads = section.Split('\n').Select(l => l.Trim().Split(' ')).Where(p => p.Length == 2 && p[1].StartsWith("0x", StringComparison.Ordinal))
            .ToDictionary(p => p[0], p => Convert.ToUInt32(p[1][2..], 16));
        Assert.True(threads.Count == 2, section);
        Assert.Equal(["ublk-q0", "ublk-q1"], threads.Keys.Order());
        Assert.All(threads.Values, flags => Assert.Equal(PfMemallocNoio | PfLocalThrottle, flags & (PfMemallocNoio | PfLocalThrottle)));
    }

    [Fact]
    public void Thread_pool_queue_threads_are_pinned_to_their_queues_cpus()
    {
        // Two queues on the two guest CPUs: blk-mq maps one CPU to each, and GET_QUEUE_AFFINITY tells us which.
        Dictionary<string, string> cpus = QueueCpus(run["file-affinity"]);
        Assert.NotEqual(cpus["ublk-q0"], cpus["ublk-q1"]);
        Assert.DoesNotContain('-', cpus["ublk-q0"]);
    }

    [Fact]
    public void Inline_queue_threads_may_run_on_any_cpu()
    {
        // They do the backend's work themselves: pinned beside the submitter they would share its CPU.
        Dictionary<string, string> cpus = QueueCpus(run["affinity"]);
        Assert.Equal("0-1", cpus["ublk-q0"]);
        Assert.Equal("0-1", cpus["ublk-q1"]);
    }

    [Fact]
    public void Kill_9_keeps_the_disk_and_recover_reattaches_it()
    {
        GuestAssert.Contains("disk kept", run["kill-9"]);
        GuestAssert.Matches(@"^ready: /dev/ublkb0 \(id 0,", run["recover"]);
        Assert.Equal("same", run["recovered-io"]);
    }

    [Fact]
    public void Flush_fua_discard_and_write_zeroes_reach_the_backend()
    {
        Assert.Equal("fs ok", run["fs"]);
        string stats = run["sigterm"];
        Assert.True(Count(stats, @"flushes (\d+)") > 0, stats);
        Assert.True(Count(stats, @"(\d+) FUA") > 0, stats);
        Assert.True(Count(stats, @"discards (\d+)") > 0, stats);
        Assert.True(Count(stats, @"write-zeroes (\d+)") > 0, stats);
        Assert.Equal(0, Count(stats, @"failed (\d+)"));
        Assert.True(Count(stats, @"(\d+) requests, mean latency") > 0, stats); // the request observer saw them too
    }

    [Fact]
    public void Sigterm_stops_and_deletes_the_device()
    {
        GuestAssert.Contains("rc=0", run["sigterm"]);
        Assert.Equal("/dev/ublk-control", run["after"]);
    }

    [Fact]
    public void A_daemon_killed_under_io_is_recovered_without_losing_a_write()
    {
        // fio writes with checksums while the daemon is SIGKILLed; I/O waits (USER_RECOVERY), the new daemon gets
        // the in-flight requests again (REISSUE), and fio's verify pass must find every block intact.
        string section = run["crash-under-io"];
        GuestAssert.Contains("fio still running: yes", section);
        GuestAssert.Contains("recovered", section);
        GuestAssert.Contains("fio rc=0", section);
        GuestAssert.Contains("err= 0", section);
        GuestAssert.Contains("daemon rc=0", section);
    }

    [Fact]
    public void Ext4_and_xfs_keep_a_tree_of_files_across_remount_and_daemon_restart()
    {
        string section = run["filesystems"];
        GuestAssert.Contains("files=30", section);
        GuestAssert.Contains("ext4 remount same", section);
        GuestAssert.Contains("xfs remount same", section);
        GuestAssert.Contains("xfs after daemon restart same", section);
    }

    [Fact]
    public void File_backend_keeps_data_across_restarts()
    {
        Assert.Equal("same", run["file-backend"]);
    }

    private static Dictionary<string, string> QueueCpus(string section)
    {
        var cpus = section.Split('\n').Select(l => l.Trim().Split(' ')).Where(p => p.Length == 2 && p[0].StartsWith("ublk-q", StringComparison.Ordinal))
            .ToDictionary(p => p[0], p => p[1]);
        Assert.True(cpus.Count == 2, section);
        Assert.Equal(["ublk-q0", "ublk-q1"], cpus.Keys.Order());
        return cpus;
    }

    private static long Count(string text, string pattern)
    {
        Match match = Regex.Match(text, pattern);
        Assert.True(match.Success, $"'{pattern}' not found in: {text}");
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}

/// <summary>One guest boot running the whole serve-backend scenario; the output is split into "### name" sections.</summary>
public sealed class UblkServeBackendRun : GuestScriptRun
{
    protected override TimeSpan Timeout => TimeSpan.FromMinutes(12);

    protected override IReadOnlyDictionary<string, string> ExtraEnvironment => new Dictionary<string, string>
    {
        ["RAMDISK_BIN"] = RamDiskSample,
    };

    /// <summary>samples/RamDisk: a backend of its own served with the ublk server library alone.</summary>
    private static string RamDiskSample
    {
        get
        {
            string configuration = typeof(UblkServeBackendRun).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            return Path.Combine(GuestVm.RepoRoot, "samples", "RamDisk", "bin", configuration, "net10.0", "ramdisk-sample");
        }
    }

    protected override string Script => """
        set -u
        S3="$S3BLOCK_BIN"
        section() { printf '### %s @%ss\n' "$1" "$SECONDS"; }
        wait_ready() {
          for _ in $(seq 1 300); do grep -q '^ready' "$1" && { cat "$1"; return 0; }; sleep 0.2; done
          echo "never ready"; cat "$1" "$2"; return 1
        }
        cmp_back() { dd if=/dev/ublkb0 of=/tmp/back bs=1M count=8 iflag=direct status=none && cmp -s /tmp/data /tmp/back && echo same || echo differ; }
        dd if=/dev/urandom of=/tmp/data bs=1M count=8 status=none

        section create
        "$S3" serve-backend --backend memory --size 1GiB --queues 2 --depth 64 --verbose >/tmp/a.out 2>/tmp/a.err &
        A=$!
        wait_ready /tmp/a.out /tmp/a.err
        section size
        blockdev --getsize64 /dev/ublkb0
        section limits
        for f in logical_block_size physical_block_size max_sectors_kb optimal_io_size write_cache fua \
                 discard_granularity write_zeroes_max_bytes rotational; do
          echo "$f=$(cat /sys/block/ublkb0/queue/$f)"
        done
        echo "queues=$(ls /sys/block/ublkb0/mq | wc -l)"
        section duplicate
        "$S3" serve-backend --backend null --size 64MiB --id 0 2>&1; echo "rc=$?"
        section dd
        dd if=/tmp/data of=/dev/ublkb0 bs=1M oflag=direct status=none && cmp_back
        section fio-verify
        fio --name=verify --filename=/dev/ublkb0 --rw=randwrite --bs=8k --iodepth=32 --ioengine=libaio --direct=1 \
            --size=64M --offset=128M --verify=crc32c --do_verify=1 2>&1 | grep -E 'err=|IOPS|bad|verify:' ; echo "fio rc=${PIPESTATUS[0]}"
        section dispatch
        grep -o 'queue [0-9]* of device 0 serving.*requests run [a-z ]*' /tmp/a.err | sed 's/ serving.*requests run / /'
        section flags
        for t in /proc/$A/task/*; do
          name=$(cat "$t/comm" 2>/dev/null); case "$name" in ublk-q*) printf '%s 0x%x\n' "$name" "$(sed 's/.*) //' "$t/stat" 2>/dev/null | cut -d' ' -f7)";; esac
        done
        section affinity
        for t in /proc/$A/task/*; do
          name=$(cat "$t/comm" 2>/dev/null); case "$name" in ublk-q*) echo "$name $(awk '/Cpus_allowed_list/ {print $2}' "$t/status" 2>/dev/null)";; esac
        done

        section kill-9
        kill -9 "$A"; wait "$A" 2>/dev/null
        sleep 1
        [ -b /dev/ublkb0 ] && echo "disk kept"
        section recover
        "$S3" serve-backend --backend memory --size 1GiB --recover 0 >/tmp/b.out 2>/tmp/b.err &
        B=$!
        wait_ready /tmp/b.out /tmp/b.err
        section recovered-io
        dd if=/tmp/data of=/dev/ublkb0 bs=1M oflag=direct status=none && cmp_back
        section fs
        mkdir -p /tmp/mnt && mkfs.ext4 -q -F /dev/ublkb0 && mount /dev/ublkb0 /tmp/mnt \
          && dd if=/tmp/data of=/tmp/mnt/file bs=1M status=none conv=fsync && sync && fstrim /tmp/mnt \
          && umount /tmp/mnt && blkdiscard -f -z -o 0 -l 1M /dev/ublkb0 2>/dev/null && echo "fs ok"
        section sigterm
        kill -TERM "$B"; wait "$B"; echo "rc=$?"
        grep '^stopped' /tmp/b.out
        section after
        sleep 0.5; ls /dev/ublk*

        section file-backend
        "$S3" serve-backend --backend file:/tmp/disk.img --size 256MiB >/tmp/c.out 2>/tmp/c.err &
        C=$!
        wait_ready /tmp/c.out /tmp/c.err >/dev/null && dd if=/tmp/data of=/dev/ublkb0 bs=1M oflag=direct status=none
        kill -TERM "$C"; wait "$C"
        "$S3" serve-backend --backend file:/tmp/disk.img >/tmp/d.out 2>/tmp/d.err &
        D=$!
        wait_ready /tmp/d.out /tmp/d.err >/dev/null && cmp_back
        kill -TERM "$D"; wait "$D"
        section file-backend-stats
        grep '^stopped' /tmp/d.out

        section filesystems
        "$S3" serve-backend --backend file:/tmp/fs.img --size 512MiB >/tmp/h.out 2>/tmp/h.err &
        H=$!
        wait_ready /tmp/h.out /tmp/h.err >/dev/null
        mkdir -p /tmp/tree /tmp/mnt
        for d in a b c; do
          mkdir -p "/tmp/tree/$d/sub"
          for i in 1 2 3 4 5; do
            head -c $((RANDOM * 8 + i)) /dev/urandom >"/tmp/tree/$d/f$i"; head -c 3000 /dev/urandom >"/tmp/tree/$d/sub/g$i"
          done
        done
        sums() { (cd "$1" && find . -type f -exec md5sum {} + | sort -k2); }
        sums /tmp/tree >/tmp/tree.md5
        echo "files=$(wc -l </tmp/tree.md5)"
        for fs in ext4 xfs; do
          case "$fs" in ext4) mkfs.ext4 -q -F /dev/ublkb0 ;; xfs) mkfs.xfs -q -f /dev/ublkb0 ;; esac
          mount /dev/ublkb0 /tmp/mnt && cp -a /tmp/tree/. /tmp/mnt/ && sync && umount /tmp/mnt
          mount /dev/ublkb0 /tmp/mnt && sums /tmp/mnt >/tmp/got.md5 && umount /tmp/mnt
          cmp -s /tmp/tree.md5 /tmp/got.md5 && echo "$fs remount same" || echo "$fs remount differ"
        done
        kill -TERM "$H"; wait "$H"
        "$S3" serve-backend --backend file:/tmp/fs.img >/tmp/i.out 2>/tmp/i.err &
        I=$!
        wait_ready /tmp/i.out /tmp/i.err >/dev/null && mount /dev/ublkb0 /tmp/mnt && sums /tmp/mnt >/tmp/got2.md5 && umount /tmp/mnt
        cmp -s /tmp/tree.md5 /tmp/got2.md5 && echo "xfs after daemon restart same" || echo "xfs after daemon restart differ"
        kill -TERM "$I"; wait "$I"
        rm -f /tmp/fs.img

        section file-affinity
        "$S3" serve-backend --backend file:/tmp/crash.img --size 256MiB --id 1 --queues 2 >/tmp/e.out 2>/tmp/e.err &
        E=$!
        wait_ready /tmp/e.out /tmp/e.err >/dev/null
        for t in /proc/$E/task/*; do
          name=$(cat "$t/comm" 2>/dev/null); case "$name" in ublk-q*) echo "$name $(awk '/Cpus_allowed_list/ {print $2}' "$t/status" 2>/dev/null)";; esac
        done
        section crash-under-io
        fio --name=crash --filename=/dev/ublkb1 --rw=randwrite --bs=8k --iodepth=32 --ioengine=libaio --direct=1 \
            --size=64M --verify=crc32c --do_verify=1 >/tmp/fio-crash.txt 2>&1 &
        F=$!
        sleep 3
        kill -9 "$E"; wait "$E" 2>/dev/null
        echo "fio still running: $(kill -0 "$F" 2>/dev/null && echo yes || echo no)"
        "$S3" serve-backend --backend file:/tmp/crash.img --recover 1 >/tmp/g.out 2>/tmp/g.err &
        G=$!
        wait_ready /tmp/g.out /tmp/g.err >/dev/null && echo recovered
        wait "$F"; echo "fio rc=$?"
        grep -E 'err=|verify' /tmp/fio-crash.txt
        kill -TERM "$G"; wait "$G"; echo "daemon rc=$?"

        section library-sample
        "$RAMDISK_BIN" 67108864 >/tmp/r.out 2>/tmp/r.err &
        R=$!
        wait_ready /tmp/r.out /tmp/r.err
        dev=$(sed -n 's/^ready: \(\/dev\/ublkb[0-9]*\).*/\1/p' /tmp/r.out)
        dd if=/tmp/data of="$dev" bs=1M oflag=direct status=none \
          && dd if="$dev" of=/tmp/back bs=1M count=8 iflag=direct status=none && cmp -s /tmp/data /tmp/back && echo "sample data same"
        kill -TERM "$R"; wait "$R"; echo "sample rc=$?"
        [ -b "$dev" ] || echo "sample device removed"
        section end
        """;

    /// <summary>
    /// The s3block executable: <c>$S3BLOCK_BIN</c> if set, else the published one (<c>artifacts/publish</c>, as
    /// scripts/test.sh makes it), else the one built with this project (same configuration). The systemd fixtures need
    /// the published one: their unit denies memory that is writable and executable, which a JIT build needs.
    /// </summary>
    public static string S3BlockBinary
    {
        get
        {
            if (Environment.GetEnvironmentVariable("S3BLOCK_BIN") is { Length: > 0 } overridden)
            {
                return overridden;
            }

            string published = Path.Combine(GuestVm.RepoRoot, "artifacts", "publish", "s3block");
            if (File.Exists(published))
            {
                return published;
            }

            string configuration = typeof(UblkServeBackendRun).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            return Path.Combine(GuestVm.RepoRoot, "src", "Ublk.Host", "bin", configuration, "net10.0", "s3block");
        }
    }

    protected override void CheckOutput(string output)
    {
        if (output.Contains("Unrecognized command or argument 'serve-backend'", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("s3block has no serve-backend verb: register ServeBackendCommand.Create() in src/Ublk.Host/Cli/CliCommands.cs");
        }
    }
}
