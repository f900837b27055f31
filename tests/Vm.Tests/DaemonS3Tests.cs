namespace S3Block.Tests.Vm;

/// <summary>
/// <c>s3block run</c> end to end in the 6.12 guest against a real S3 server (Ceph RadosGW, started by
/// <c>tests/localstack/radosgw.sh</c> inside the guest on its loopback): a filesystem across a stop and start with the
/// data in the bucket; a real Prometheus scraping the daemon; a 60 s S3 outage under writes; kill -9 under a write
/// workload with fsync; a second daemon refused; the volume read back from S3 alone; bad configuration. One boot.
/// </summary>
public sealed class DaemonS3Tests(DaemonS3Run run) : IClassFixture<DaemonS3Run>
{
    [Fact]
    public void The_s3_server_runs_in_the_guest_and_the_volume_is_created_in_its_bucket()
    {
        GuestAssert.Contains("radosgw rc=0", run["s3-server"]);
        GuestAssert.Contains("bucket http=200", run["s3-server"]);
        var create = run["create"];
        GuestAssert.Contains("created volume vol1: 1GiB", create);
        GuestAssert.Contains("rc=0", create);
        GuestAssert.Contains("vol1/volume.json", create);
    }

    [Fact]
    public void A_tree_written_before_a_clean_stop_reads_back_after_a_new_start_and_is_in_the_bucket()
    {
        GuestAssert.Matches(@"ready: serving volume vol1 on /dev/ublkb\d+ \(created", run["run1"]);
        GuestAssert.Contains("written", run["run1"]);
        var stop = run["stop1"];
        GuestAssert.Contains("rc=0", stop);
        GuestAssert.Contains("stopped: volume vol1 is in S3", stop);
        GuestAssert.Contains("devices left=0", stop);
        GuestAssert.Matches(@"chunk objects in the bucket=[1-9]\d*", stop);
        GuestAssert.Contains("tree same", run["run2"]);
    }

    [Fact]
    public void A_real_prometheus_scrapes_the_daemon_and_answers_queries_for_its_series()
    {
        var section = run["prometheus"];
        GuestAssert.Contains("promtool rc=0", section);
        GuestAssert.Contains("target up=1", section);
        foreach (var series in new[]
                 {
                     "s3block_io_requests_total", "s3block_journal_fill_ratio", "s3block_dirty_bytes",
                     "s3block_dirty_oldest_age_seconds", "s3block_lease_held", "s3block_uploaded_bytes_total",
                     "s3block_s3_requests_total",
                 })
        {
            GuestAssert.Matches($@"{series}: [1-9]\d* series", section);
        }
    }

    [Fact]
    public void Every_series_the_dashboard_and_the_alert_rules_use_is_exported_by_the_running_daemon()
    {
        var section = run["prometheus"];
        var names = DashboardSeries.Names();
        Assert.True(names.Count > 30, $"found only {names.Count} series names in the dashboard and alert rules");
        foreach (var name in names)
        {
            GuestAssert.Matches($@"dashboard series {name}: [1-9]\d*", section);
        }
    }

    [Fact]
    public void A_60_second_s3_outage_under_writes_reaches_no_filesystem_and_the_backlog_drains_after()
    {
        var section = run["outage"];
        GuestAssert.Contains("gateway stopped", section);
        GuestAssert.Matches(@"during the outage: not in S3 [1-9]\d* bytes", section);
        GuestAssert.Contains("gateway started", section);
        GuestAssert.Matches(@"writes=[1-9]\d* errors=0", section);
        GuestAssert.Contains("outage files same", section);
        GuestAssert.Matches(@"drained: not in S3 0 bytes after \d+ s", section);
        GuestAssert.Contains("kernel I/O errors=0", section);
        GuestAssert.Contains("volume faults=0", section);
        GuestAssert.Matches(@"prometheus saw a backlog of [1-9]\d* bytes", section);
        GuestAssert.Contains("prometheus saw it drain", section);
    }

    [Fact]
    public void Kill_9_during_a_write_workload_with_fsync_loses_no_fsynced_file_and_fsck_is_clean()
    {
        var section = run["crash"];
        GuestAssert.Matches(@"fsynced before the kill=[1-9]\d*", section);
        GuestAssert.Contains("disk kept", section);
        GuestAssert.Matches(@"ready: serving volume vol1 on /dev/ublkb\d+ \(recovered", section);
        GuestAssert.Contains("writer failures=0", section);
        GuestAssert.Contains("fsynced files intact", section);
        GuestAssert.Contains("fsck rc=0", section);
    }

    [Fact]
    public void A_second_daemon_on_the_same_volume_is_refused_and_the_first_keeps_serving()
    {
        var section = run["second-daemon"];
        GuestAssert.Contains("other host rc=1", section);
        GuestAssert.Matches(@"s3block: volume 'vol1' is in use by \S+ \(pid \d+, epoch \d+\)", section);
        GuestAssert.Contains("same host rc=1", section);
        GuestAssert.Contains("s3block: volume 'vol1' is already served by another s3block on this host (pid", section);
        GuestAssert.Contains("devices=1", section);
        GuestAssert.Contains("first still writable", section);
        GuestAssert.Contains("stop rc=0", section);
    }

    [Fact]
    public void After_a_crash_and_the_loss_of_all_local_state_the_volume_from_s3_alone_is_a_clean_filesystem()
    {
        var section = run["lost-local"];
        GuestAssert.Contains("local state deleted", section);
        GuestAssert.Matches(@"ready: serving volume vol1 on /dev/ublkb\d+ \(created", section);
        GuestAssert.Contains("mounted", section);
        GuestAssert.Contains("fsck rc=0", section);
        GuestAssert.Contains("tree same", section);
        GuestAssert.Contains("stop rc=0", section);
    }

    [Fact]
    public void A_volume_missing_from_the_store_is_refused_before_anything_local_is_created()
    {
        var section = run["bad-config"];
        GuestAssert.Contains("missing rc=1 s3block: volume 'nosuchvol' does not exist in s3://s3block-e2e", section);
        GuestAssert.Contains("nothing created", section);
    }

    [Theory]
    [InlineData("bucket", "Store:S3:Bucket: bucket 's3block-missing' does not exist")]
    [InlineData("secret", "Store:S3:SecretKey:")]
    [InlineData("access", "Store:S3:AccessKey:")]
    [InlineData("endpoint", "Store:S3:ServiceUrl: cannot reach http://127.0.0.1:1")]
    [InlineData("kind", "Store:Kind:")]
    [InlineData("queues", "Device:Queues: 0 is outside 1..64")]
    [InlineData("lease", "Volume:LeaseTtl: must be at least 3 s")]
    [InlineData("port", "Metrics:Port: 70000 is outside 0..65535")]
    [InlineData("journal", "Journal:CapacityBytes:")]
    [InlineData("name", "Daemon:Volume: 'Bad_Name' is not a valid volume name")]
    public void Bad_configuration_exits_2_naming_the_key_and_touches_nothing(string name, string message)
    {
        var section = run["bad-config"];
        GuestAssert.Contains($"{name} rc=2 s3block: configuration error: {message}", section);
        GuestAssert.Contains("nothing created", section);
        GuestAssert.Contains("no device", section);
    }
}

/// <summary>The one guest boot behind <see cref="DaemonS3Tests"/>.</summary>
public sealed class DaemonS3Run : GuestScriptRun
{
    protected override TimeSpan Timeout => TimeSpan.FromMinutes(25);

    protected override string Script => """
        set -u
        S3="$S3BLOCK_BIN"
        . "$S3BLOCK_REPO/tests/vm/guest-lib.sh"
        RGW_SH="$S3BLOCK_REPO/tests/localstack/radosgw.sh"
        RGW=/tmp/rgw
        BUCKET=s3block-e2e
        mkdir -p /tmp/work /tmp/mnt && cd /tmp/work

        # Reads one sample of a metric from the daemon's /metrics (0 if absent).
        metric() { curl -s http://127.0.0.1:9464/metrics | awk -v n="$1" '$1 == n || index($1, n "{") == 1 { v = $2 } END { printf "%.0f\n", v + 0 }'; }
        # Asks Prometheus; prints the number of series and the first value.
        promql() { curl -s --data-urlencode "query=$1" http://127.0.0.1:9090/api/v1/query |
          python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(len(r), r[0]["value"][1] if r else "none")'; }

        section s3-server
        bash "$RGW_SH" start "$RGW" >/tmp/rgw.out 2>&1; rc=$?; echo "radosgw rc=$rc"; [ "$rc" = 0 ] || cat /tmp/rgw.out
        . "$RGW/env"
        s3curl() { curl -s -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' --aws-sigv4 "aws:amz:$S3BLOCK_TEST_S3_REGION:s3" \
          --user "$S3BLOCK_TEST_S3_ACCESS_KEY:$S3BLOCK_TEST_S3_SECRET_KEY" "$@"; }
        # The keys under a prefix (curl's SigV4 signs the query string as given: "/" must be sent encoded).
        keys() { s3curl "$S3BLOCK_TEST_S3_ENDPOINT/$BUCKET?list-type=2&prefix=${1//\//%2F}" | grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g'; }
        s3curl -X PUT -o /dev/null -w 'bucket http=%{http_code}\n' "$S3BLOCK_TEST_S3_ENDPOINT/$BUCKET"
        # The daemon's configuration file (the systemd unit passes /etc/s3block/NAME.json the same way).
        cat >/tmp/work/vol1.json <<JSON
        {
          "Store": { "Kind": "s3", "S3": { "ServiceUrl": "$S3BLOCK_TEST_S3_ENDPOINT", "Bucket": "$BUCKET",
            "AccessKey": "$S3BLOCK_TEST_S3_ACCESS_KEY", "SecretKey": "$S3BLOCK_TEST_S3_SECRET_KEY", "Region": "$S3BLOCK_TEST_S3_REGION" } },
          "Volume": { "CommitInterval": "00:00:01", "MaxRetryDelay": "00:00:05" }
        }
        JSON
        C="--config /tmp/work/vol1.json"

        section create
        "$S3" create vol1 --size 1GiB --chunk-size 1MiB $C; echo "rc=$?"
        keys vol1/ | head -3

        section bad-config
        # Each run is a whole .NET start (seconds under TCG), so they run three at a time, each in a folder of its own
        # (a state folder is per working directory) and without metrics (the port is bound before the store is
        # checked, and only one of them would get it), and print their lines at the end.
        bad() { # NAME ARGS...: one line with the exit status and the first message line, in /tmp/bad/NAME/line
          local name=$1; shift
          mkdir -p "/tmp/bad/$name" && cd "/tmp/bad/$name" || return
          "$S3" run "$@" >out 2>&1; echo "$name rc=$? $(grep -m1 '^s3block:' out)" >line
        }
        NOM="--set Metrics:Enabled=false"
        pids=()
        while read -r name args; do
          # shellcheck disable=SC2086 # the arguments are words
          bad "$name" $args & pids+=($!)
          [ ${#pids[@]} -lt 3 ] || { wait "${pids[@]}"; pids=(); }
        done <<BAD
        bucket vol1 $C $NOM --set Store:S3:Bucket=s3block-missing
        secret vol1 $C $NOM --set Store:S3:SecretKey=wrong
        access vol1 $C $NOM --set Store:S3:AccessKey=nobody
        endpoint vol1 $C $NOM --set Store:S3:ServiceUrl=http://127.0.0.1:1
        kind vol1 $C $NOM --set Store:Kind=ftp
        queues vol1 $C $NOM --set Device:Queues=0
        lease vol1 $C $NOM --set Volume:LeaseTtl=00:00:01
        port vol1 $C --set Metrics:Port=70000
        journal vol1 $C $NOM --set Journal:CapacityBytes=1MiB
        name Bad_Name $C $NOM
        missing nosuchvol $C $NOM
        BAD
        [ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
        cat /tmp/bad/*/line
        ls -d /tmp/bad/*/data >/dev/null 2>&1 && echo "local state created" || echo "nothing created"
        ls /dev/ublkb* >/dev/null 2>&1 && echo "a device exists" || echo "no device"

        section run1
        start_daemon r1 run vol1 $C
        make_tree /tmp/tree && sums /tmp/tree >/tmp/tree.md5
        mkfs.ext4 -q -F "$DEV" && mount "$DEV" /tmp/mnt && cp -a /tmp/tree/. /tmp/mnt/ && sync && umount /tmp/mnt && echo "written"

        section stop1
        kill -TERM "$R"; wait "$R"; echo "rc=$?"
        grep '^stopped' /tmp/r1.out
        echo "devices left=$(ls /dev/ublkb* 2>/dev/null | wc -l)"
        echo "chunk objects in the bucket=$(keys vol1/chunks/ | wc -l)"

        section run2
        start_daemon r2 run vol1 $C
        mount "$DEV" /tmp/mnt && sums /tmp/mnt >/tmp/got.md5 && { cmp -s /tmp/tree.md5 /tmp/got.md5 && echo "tree same" || echo "tree differ"; }

        section prometheus
        curl -s http://127.0.0.1:9464/metrics | promtool check metrics; echo "promtool rc=$?"
        mkdir -p /tmp/prom
        printf 'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: s3block\n    static_configs:\n      - targets: ["127.0.0.1:9464"]\n' >/tmp/prom/prometheus.yml
        prometheus --config.file=/tmp/prom/prometheus.yml --storage.tsdb.path=/tmp/prom/data \
          --web.listen-address=127.0.0.1:9090 >/tmp/prom/log 2>&1 &
        P=$!
        for _ in $(seq 1 120); do [ "$(promql 'up{job="s3block"}' 2>/dev/null)" = "1 1" ] && break; sleep 1; done
        echo "target up=$(promql 'up{job="s3block"}' | cut -d' ' -f2)"
        for s in s3block_io_requests_total s3block_journal_fill_ratio s3block_dirty_bytes s3block_dirty_oldest_age_seconds \
                 s3block_lease_held s3block_uploaded_bytes_total s3block_s3_requests_total; do
          echo "$s: $(promql "$s" | cut -d' ' -f1) series"
        done
        # Every series the shipped dashboard and alert rules use, as Prometheus sees it.
        for s in $(grep -oh 's3block_[a-z0-9_]*' "$S3BLOCK_REPO/deploy/grafana/s3block.json" "$S3BLOCK_REPO/deploy/prometheus/alerts.yml" | sort -u); do
          echo "dashboard series $s: $(promql "$s" | cut -d' ' -f1)"
        done

        section outage
        # A writer that fsyncs every file, before, during and after 30 s without S3 (with retries backing off to
        # MaxRetryDelay, 5 s, that is several failed rounds).
        ( n=0; errors=0; while [ ! -e /tmp/stop-writer ]; do n=$((n + 1))
            dd if=/dev/urandom of="/tmp/mnt/out$n" bs=64k count=2 conv=fsync status=none 2>>/tmp/writer.err || errors=$((errors + 1))
            (cd /tmp/mnt && md5sum "out$n") >>/tmp/out.md5; sleep 0.5; done
          echo "writes=$n errors=$errors" ) >/tmp/writer.out &
        W=$!
        sleep 5
        bash "$RGW_SH" stop-gateway "$RGW" 2>&1
        sleep 20
        echo "during the outage: not in S3 $(metric s3block_dirty_bytes) bytes, oldest $(metric s3block_dirty_oldest_age_seconds) s"
        sleep 10
        bash "$RGW_SH" start-gateway "$RGW" 2>&1
        sleep 5; touch /tmp/stop-writer; wait "$W"
        cat /tmp/writer.out /tmp/writer.err
        (cd /tmp/mnt && md5sum -c --quiet /tmp/out.md5) && echo "outage files same"
        sync # the check's atime updates, committed now rather than by ext4's 5 s timer during the drain
        start=$SECONDS
        # One reading decides and is printed: ext4 keeps writing (its journal commits), so a second reading may
        # already see new bytes.
        for _ in $(seq 1 240); do dirty=$(metric s3block_dirty_bytes); [ "$dirty" = 0 ] && break; sleep 1; done
        echo "drained: not in S3 $dirty bytes after $((SECONDS - start)) s"
        echo "kernel I/O errors=$(dmesg | grep -ci -e 'i/o error' -e 'EXT4-fs error')"
        echo "volume faults=$(cat /tmp/r2.out /tmp/r2.err | grep -c 'stopped accepting writes')"
        # If anything failed, what the kernel and the daemon said (a failure must be diagnosable from this output).
        dmesg | grep -i -e 'i/o error' -e 'EXT4-fs' | head -5
        grep -i -e 'fail' -e 'error' -e 'EIO' -e 'stopped accepting' /tmp/r2.out /tmp/r2.err | tail -15
        if [ "$dirty" != 0 ]; then
          "$S3" status vol1 $C 2>&1
          tail -n 25 /tmp/r2.out /tmp/r2.err
        fi
        sleep 3
        echo "prometheus saw a backlog of $(promql 'max_over_time(s3block_dirty_bytes[10m])' | cut -d' ' -f2) bytes"
        for _ in $(seq 1 30); do [ "$(promql 'min_over_time(s3block_dirty_bytes[20s])' | cut -d' ' -f2)" = 0 ] && break; sleep 1; done
        [ "$(promql 'min_over_time(s3block_dirty_bytes[20s])' | cut -d' ' -f2)" = 0 ] && echo "prometheus saw it drain"
        kill "$P"; wait "$P" 2>/dev/null

        section crash
        rm -f /tmp/stop-writer /tmp/fsynced.md5
        ( failures=0; n=0; while [ ! -e /tmp/stop-writer ]; do n=$((n + 1))
            if dd if=/dev/urandom of="/tmp/mnt/sync$n" bs=64k count=4 conv=fsync status=none; then
              (cd /tmp/mnt && md5sum "sync$n") >>/tmp/fsynced.md5
            else failures=$((failures + 1)); fi; done
          echo "writer failures=$failures" ) >/tmp/crash-writer.out 2>&1 &
        W=$!
        sleep 8
        kill -9 "$R"; wait "$R" 2>/dev/null
        cp /tmp/fsynced.md5 /tmp/fsynced-at-kill.md5
        echo "fsynced before the kill=$(wc -l </tmp/fsynced-at-kill.md5)"
        sleep 1; [ -b "$DEV" ] && echo "disk kept"
        start_daemon r3 run vol1 $C
        sleep 3; touch /tmp/stop-writer; wait "$W"; cat /tmp/crash-writer.out
        (cd /tmp/mnt && md5sum -c --quiet /tmp/fsynced-at-kill.md5) && echo "fsynced files intact"
        umount /tmp/mnt
        fsck.ext4 -n -f "$DEV" >/tmp/fsck1.txt 2>&1; echo "fsck rc=$?"

        section second-daemon
        # Both at once (each is a whole .NET start): one as another host would (its own state folder), one on this host.
        ( "$S3" run vol1 $C --set Daemon:StateDirectory=/tmp/other-host --set Metrics:Enabled=false >/tmp/sd1.out 2>&1
          echo "other host rc=$?" >/tmp/sd1.rc ) & SD=$!
        "$S3" run vol1 $C --set Metrics:Enabled=false >/tmp/sd2.out 2>&1; echo "same host rc=$?" >/tmp/sd2.rc
        wait "$SD" # not a bare wait: the daemon serving vol1 runs in the background too
        cat /tmp/sd1.rc; grep -m1 '^s3block:' /tmp/sd1.out
        cat /tmp/sd2.rc; grep -m1 '^s3block:' /tmp/sd2.out
        echo "devices=$(ls /dev/ublkb* 2>/dev/null | wc -l)"
        mount "$DEV" /tmp/mnt && echo still >/tmp/mnt/after-second && sync && echo "first still writable"
        umount /tmp/mnt
        kill -TERM "$R"; wait "$R"; echo "stop rc=$?"

        section lost-local
        start_daemon r4 run vol1 $C --set Volume:CommitInterval=00:00:03 >/dev/null
        mount "$DEV" /tmp/mnt
        for i in $(seq 1 20); do dd if=/dev/urandom of="/tmp/mnt/late$i" bs=128k count=4 conv=fsync status=none; done
        umount /tmp/mnt
        echo "not in S3 at the kill: $(metric s3block_dirty_bytes) bytes"
        kill -9 "$R"; wait "$R" 2>/dev/null
        OLD=${DEV#/dev/ublkb}
        end_guard vol1 # the lost disk takes it with it
        rm -rf data/state && echo "local state deleted"
        start_daemon r5 run vol1 $C --force-takeover
        # Mounting replays ext4's own journal, as it would after a power cut; then the check must find nothing.
        mount "$DEV" /tmp/mnt && echo "mounted" && umount /tmp/mnt
        fsck.ext4 -n -f "$DEV" >/tmp/fsck2.txt 2>&1; echo "fsck rc=$?"
        mount "$DEV" /tmp/mnt && sums /tmp/mnt | grep -v -e ' ./out' -e ' ./sync' -e ' ./late' -e ' ./after-second' >/tmp/got2.md5
        cmp -s /tmp/tree.md5 /tmp/got2.md5 && echo "tree same" || echo "tree differ"
        echo "late files from S3 alone: $(ls /tmp/mnt | grep -c '^late')"
        umount /tmp/mnt
        kill -TERM "$R"; wait "$R"; echo "stop rc=$?"
        "$S3" delete "$OLD" >/dev/null 2>&1
        echo "devices left=$(ls /dev/ublkb* 2>/dev/null | wc -l)"
        bash "$RGW_SH" stop "$RGW" >/dev/null 2>&1
        section end
        """;

    protected override void CheckOutput(string output)
    {
        if (output.Contains("radosgw rc=", StringComparison.Ordinal) && !output.Contains("radosgw rc=0", StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                "RadosGW did not start in the guest; is it installed (tests/localstack/radosgw.sh install)?\n" + output);
        }
    }
}
