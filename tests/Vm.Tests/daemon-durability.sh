#!/usr/bin/env bash
# Guest script of tests/Vm.Tests/DaemonDurabilityTests.cs (issue 9): the daemon's durability contract on a real disk.
# Runs inside the test VM with one virtio disk (/dev/vda, run.sh --disk, at least 3.5 GiB): the daemon's state
# (journal, cache and the embedded local store) lives on ext4 on device-mapper devices over that disk, never on tmpfs.
#   setup      dm devices and filesystems
#   kill-fio   fio randwrite + crc32c verify on the raw device, 2 jobs x QD 32, while the daemon is SIGKILLed and
#              re-attached >= 20 times
#   kill-ext4  ext4 on the device, fio with fsync + a file writer that fsyncs, 4 more kills; fsck, checksums
#   full-disk  the state folder on a 256 MiB ext4 that fills up under writes; the filler is deleted after
#   eio        the state filesystem's device switched to dm-flakey error_writes under fsyncing writes; healed;
#              the next start must refuse to treat unsynced journal data as durable
# Each part prints a "### name" section that the C# side asserts on. Every wait is bounded.
# Environment: S3BLOCK_BIN (the s3block executable), S3BLOCK_REPO; optional: S3BLOCK_SEED repeats a run's seed,
# S3BLOCK_DURABILITY_PARTS runs only some parts (e.g. "setup eio").
set -u
S3="$S3BLOCK_BIN"
# shellcheck source=../vm/guest-lib.sh
. "$S3BLOCK_REPO/tests/vm/guest-lib.sh"
# No udev in the guest: libdevmapper creates the /dev/mapper nodes itself.
export DM_DISABLE_UDEV=1
SEED=${S3BLOCK_SEED:-$(((RANDOM << 15) | RANDOM))}

# Layout of /dev/vda in 512-byte sectors: the state filesystem's external ext4 journal (so that a failing data
# device fails the daemon's writes, not the filesystem's own journal commits), the state filesystem, the small one.
JNL_OFF=0 JNL_LEN=$((64 * 2048))
STATE_OFF=$JNL_LEN STATE_LEN=$((3072 * 2048))
SMALL_OFF=$((JNL_OFF + JNL_LEN + STATE_LEN)) SMALL_LEN=$((256 * 2048))
METRICS=http://127.0.0.1:9464/metrics

# Sectors written to the ublk device DEV so far (its block-layer statistics survive a daemon re-attach).
written_sectors() { awk '{ print $7 }' "/sys/block/${DEV#/dev/}/stat"; }

# One reading of the daemon's metrics into FILE; `value FILE NAME` then reads a series from that one reading.
scrape() { curl -s -m 10 "$METRICS" >"$1" || echo "scrape failed" >&2; }
value() { awk -v n="$2" '$1 == n || index($1, n "{") == 1 { v = $2; found = 1 } END { if (found) printf "%.0f\n", v; else print "absent" }' "$1"; }

# SIGTERM the daemon $R and wait up to 2 min for it; prints "stop rc=N".
stop_daemon() {
  kill -TERM "$R" 2>/dev/null
  for _ in $(seq 1 600); do kill -0 "$R" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$R" 2>/dev/null && { echo "stop: still running after 120 s, killed"; kill -9 "$R"; }
  wait "$R"; echo "stop rc=$?"
}

# A crash and the next daemon: kill -9 the daemon $R, then start `s3block run ARGS...` as $R, its output in
# /tmp/NAME.out and /tmp/NAME.err. The device waits for the new daemon's re-attach meanwhile.
crash_and_restart() { # NAME ARGS...
  local name=$1; shift
  kill -9 "$R"; wait "$R" 2>/dev/null
  "$S3" run "$@" >"/tmp/$name.out" 2>"/tmp/$name.err" &
  R=$!
}

# Waits (up to LIMIT s) until CMD prints a number >= TARGET; succeeds if it did.
wait_at_least() { # TARGET LIMIT CMD...
  local target=$1 limit=$2; shift 2
  for _ in $(seq 1 $((limit * 5))); do [ "$("$@")" -ge "$target" ] && return 0; sleep 0.2; done
  return 1
}

# Verify failures fio reported (each failed block logs one line) in FILE.
verify_failures() { grep -cE 'verify failed|bad magic|bad header|verify: ' "$1"; }

# From fio's JSON output: completed writes, bytes written, reads (verify), total_err.
fio_numbers() {
  python3 - "$1" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
jobs = json.JSONDecoder().raw_decode(text[text.index("{"):])[0]["jobs"]  # fio may put notes before the JSON
w = sum(j["write"]["total_ios"] for j in jobs); wb = sum(j["write"]["io_bytes"] for j in jobs)
r = sum(j["read"]["total_ios"] for j in jobs); e = sum(j.get("total_err", 0) for j in jobs)
print(f"writes completed={w} bytes={wb} verify reads={r} fio total_err={e} job errors={[j['error'] for j in jobs]}")
PY
}

part_setup() {
  section setup
  echo "seed=$SEED"
  # Kernel messages stay in dmesg (the checks read them there) instead of interleaving with this output.
  dmesg -n 1
  modprobe -a virtio_blk dm-mod dm-flakey || echo "modprobe failed"
  for _ in $(seq 1 100); do [ -b /dev/vda ] && break; sleep 0.1; done
  echo "disk sectors=$(blockdev --getsz /dev/vda)"
  dmsetup create statejnl --table "0 $JNL_LEN linear /dev/vda $JNL_OFF"
  dmsetup create state --table "0 $STATE_LEN linear /dev/vda $STATE_OFF"
  dmsetup create small --table "0 $SMALL_LEN linear /dev/vda $SMALL_OFF"
  mke2fs -q -F -O journal_dev -b 4096 /dev/mapper/statejnl
  mkfs.ext4 -q -F -b 4096 -J device=/dev/mapper/statejnl /dev/mapper/state
  mkfs.ext4 -q -F /dev/mapper/small
  mkdir -p /mnt/state /mnt/small /mnt/fs
  mount -o journal_path=/dev/mapper/statejnl /dev/mapper/state /mnt/state && mount /dev/mapper/small /mnt/small \
    && echo "state filesystems mounted"
  df -h --output=source,size,target /mnt/state /mnt/small | tail -2
}

part_kill_fio() {
  section kill-fio
  mkdir -p /mnt/state/k && cd /mnt/state/k || exit 1
  KOPTS=(--set Volume:CommitInterval=00:00:02 --set Journal:CapacityBytes=512MiB --set Cache:DiskBudgetBytes=256MiB
         --set Metrics:Enabled=false)
  "$S3" create vk --size 1GiB --chunk-size 1MiB >/dev/null; echo "create rc=$?"
  start_daemon k0 run vk "${KOPTS[@]}"
  # Two jobs on separate 112 MiB ranges, one per CPU (so both ublk queues are busy), mixed sizes, QD 32, each block
  # written once and checked by the read-back phase after the writes. A round writes its 2 MiB plus what completes at
  # once when the restarted daemon re-attaches (the ~64 requests in flight, ~3.5 MiB on average): 5 to 7 MiB measured,
  # so 192 MiB left room for the 24 rounds (with 128 MiB, one run ended after 18). The kills during start-ups below
  # add more such bursts (one run ended after 23 rounds with 192 MiB), hence 224 MiB.
  JOB_MIB=112
  fio --name=kill --eta=never --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=32 --rw=randwrite \
    --bssplit=4k/40:16k/20:64k/20:128k/10:256k/10 --numjobs=2 --size=${JOB_MIB}M --offset_increment=512M \
    --cpus_allowed=0-1 --cpus_allowed_policy=split --randseed="$SEED" \
    --verify=crc32c --verify_fatal=0 --continue_on_error=verify \
    --output-format=json --output=/tmp/fio-kill.json 2>/tmp/fio-kill.err &
  F=$!
  # 24 kills, each once fio has written another 2 MiB since the last one (so the device was re-attached and serving)
  # and none in the last 2 MiB. A kill does not wait for the restarted daemon's "ready" line: a kill during the rest of
  # its start-up is one more crash point. The device's statistics are polled without forking (a fork costs tens of
  # ms under TCG, while fio writes on), so a round writes little more than its 2 MiB.
  # Every fourth round also kills the restarted daemon once, at a random moment of its start-up (0 to 3 s after it
  # began, which it takes about 4 s to finish): opening the journal, replaying it, attaching to the device. The
  # natively compiled daemon is ready before 2 MiB land, so without these no kill would hit a start-up.
  # A FIFO nobody writes: `read -t` on it sleeps without forking (the guest has no /dev/fd for a <(:) instead).
  rm -f /tmp/never && mkfifo /tmp/never && exec {never}<>/tmp/never
  wait_written() { # TARGET LIMIT_S
    local end=$((SECONDS + $2)) ws
    while [ "$SECONDS" -lt "$end" ]; do
      read -r _ _ _ _ _ _ ws _ <"/sys/block/${DEV#/dev/}/stat"
      [ "$ws" -ge "$1" ] && return 0
      read -r -t 0.05 -u "$never" _
    done
    return 1
  }
  start_sectors=$(written_sectors)
  total=$((2 * JOB_MIB * 2048))
  step=$((2 * 2048))
  RANDOM=$SEED
  rounds=0 stalls=0 before_ready=0 startup_kills=0 t0=$SECONDS K=k0
  last=$start_sectors
  while kill -0 "$F" 2>/dev/null && [ "$rounds" -lt 24 ]; do
    [ $(($(written_sectors) - start_sectors + step)) -lt "$total" ] || break
    if ! wait_written $((last + step)) 90; then stalls=$((stalls + 1)); break; fi
    [ "$rounds" -gt 0 ] && ! grep -q '^ready' "/tmp/$K.out" && before_ready=$((before_ready + 1))
    rounds=$((rounds + 1))
    K=k$rounds
    crash_and_restart "$K" vk "${KOPTS[@]}"
    last=$(written_sectors) # nothing completes until the new daemon re-attached
    if [ $((rounds % 4)) -eq 0 ]; then
      read -r -t "$((RANDOM % 3)).$((RANDOM % 10))" -u "$never" _
      grep -q '^ready' "/tmp/$K.out" || { startup_kills=$((startup_kills + 1)); before_ready=$((before_ready + 1)); }
      K=k${rounds}b
      crash_and_restart "$K" vk "${KOPTS[@]}"
    fi
  done
  wait_ready "/tmp/$K.out" "/tmp/$K.err" >/dev/null || echo "the last daemon ($K) never got ready"
  echo "kill phase: $((SECONDS - t0)) s, $(( ($(written_sectors) - start_sectors) / 2048 )) MiB written to the device"
  echo "kills before the restarted daemon printed ready=$before_ready, of which at a random moment of a start-up=$startup_kills"
  for _ in $(seq 1 900); do kill -0 "$F" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$F" 2>/dev/null && { echo "fio still running after 3 min, killed"; kill -9 "$F"; }
  wait "$F"; echo "fio rc=$?"
  echo "kill rounds=$rounds stalls=$stalls"
  fio_numbers /tmp/fio-kill.json
  echo "verify errors=$(verify_failures /tmp/fio-kill.err)"
  grep -m 10 -E 'verify|error' /tmp/fio-kill.err
  # What the daemons said about torn journal tails at re-attach (the loss the issue measured).
  cat /tmp/k*.out /tmp/k*.err 2>/dev/null | grep -i -m 10 -e 'torn' -e 'never acknowledged' -e 'fault'
}

part_kill_ext4() {
  section kill-ext4
  mkfs.ext4 -q -F "$DEV" && mount "$DEV" /mnt/fs && echo "ext4 mounted"
  rm -f /tmp/stop-writer && : >/tmp/fsynced.md5
  # Files written and fsynced one by one; a file's checksum is recorded only once its fsync succeeded.
  ( failures=0 n=0
    while [ ! -e /tmp/stop-writer ] && [ "$n" -lt 2000 ]; do n=$((n + 1))
      if dd if=/dev/urandom of="/mnt/fs/sync$n" bs=64k count=$((1 + n % 6)) conv=fsync status=none 2>>/tmp/ext4-writer.err; then
        (cd /mnt/fs && md5sum "sync$n") >>/tmp/fsynced.md5
      else failures=$((failures + 1)); fi
    done
    echo "writer files=$n failures=$failures" ) >/tmp/ext4-writer.out &
  W=$!
  fio --name=churn --eta=never --directory=/mnt/fs --numjobs=2 --nrfiles=2 --size=4M --rw=randwrite --bsrange=4k-64k \
    --direct=1 --ioengine=psync --fsync=4 --randseed="$SEED" --verify=crc32c --verify_fatal=0 --continue_on_error=verify \
    --output-format=json --output=/tmp/fio-ext4.json 2>/tmp/fio-ext4.err &
  F=$!
  fsynced() { wc -l </tmp/fsynced.md5; }
  # As above: a kill once 5 more files were fsynced since the last one (so the device was re-attached and serving).
  rounds=0 last=0
  for i in 1 2 3; do
    wait_at_least $((last + 5)) 90 fsynced || { echo "writer stalled before kill $i"; break; }
    kill -0 "$F" 2>/dev/null && echo "kill $i with fio running" || echo "kill $i after fio ended"
    crash_and_restart "e4k$i" vk "${KOPTS[@]}"
    last=$(fsynced)
    rounds=$i
  done
  wait_ready "/tmp/e4k$rounds.out" "/tmp/e4k$rounds.err" >/dev/null || echo "the last daemon (e4k$rounds) never got ready"
  cp /tmp/fsynced.md5 /tmp/fsynced-at-last-kill.md5
  wait_at_least $(($(fsynced) + 5)) 60 fsynced || echo "writer stalled after the kills"
  for _ in $(seq 1 900); do kill -0 "$F" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$F" 2>/dev/null && { echo "fio still running after 3 min, killed"; kill -9 "$F"; }
  wait "$F"; echo "fio rc=$?"
  touch /tmp/stop-writer
  for _ in $(seq 1 300); do kill -0 "$W" 2>/dev/null || break; sleep 0.2; done
  wait "$W"; cat /tmp/ext4-writer.out; head -5 /tmp/ext4-writer.err
  echo "ext4 kill rounds=$rounds"
  fio_numbers /tmp/fio-ext4.json
  echo "verify errors=$(verify_failures /tmp/fio-ext4.err)"
  grep -m 10 -E 'verify|error' /tmp/fio-ext4.err
  echo "fsynced files=$(fsynced) (at the last kill: $(wc -l </tmp/fsynced-at-last-kill.md5))"
  umount /mnt/fs && echo "unmounted"
  fsck.ext4 -n -f "$DEV" >/tmp/fsck-ext4.txt 2>&1; echo "fsck rc=$?"
  [ "$(tail -1 /tmp/fsck-ext4.txt)" ] && tail -3 /tmp/fsck-ext4.txt
  # Read back from the device, not the page cache: a fresh mount.
  mount "$DEV" /mnt/fs && (cd /mnt/fs && md5sum -c --quiet /tmp/fsynced.md5) && echo "fsynced files intact"
  umount /mnt/fs
  stop_daemon
  echo "devices left=$(ls /dev/ublkb* 2>/dev/null | wc -l)"
  dmesg | grep -i -m 5 -e 'ublkb.*error' -e 'EXT4-fs error'
}

part_full_disk() {
  section full-disk
  mkdir -p /mnt/small/f && cd /mnt/small/f || exit 1
  FOPTS=(--set Journal:CapacityBytes=48MiB --set Journal:SegmentSizeBytes=8MiB --set Cache:DiskBudgetBytes=16MiB
         --set Cache:MemoryBudgetBytes=16MiB --set Volume:CommitInterval=00:00:01 --set Volume:GarbageDelay=00:00:02)
  "$S3" create vf --size 1GiB --chunk-size 1MiB >/dev/null; echo "create rc=$?"
  start_daemon f0 run vf "${FOPTS[@]}"
  mkfs.ext4 -q -F "$DEV" && mount "$DEV" /mnt/fs && echo "ext4 mounted"
  # 32 files of 2 MiB (64 MiB) from tmpfs, copied with fsync each: more than the room the filler leaves.
  mkdir -p /tmp/src
  for i in $(seq 1 32); do head -c $((2 << 20)) /dev/urandom >"/tmp/src/f$i"; done
  (cd /tmp/src && md5sum f*) >/tmp/src.md5
  sync
  avail() { df --output=avail -B1M /mnt/small | tail -1 | tr -d ' '; }
  echo "free before the filler=$(avail) MiB"
  fallocate -l $(( ($(avail) - 24) << 20 )) /mnt/small/filler && echo "filler leaves $(avail) MiB"
  dmesg -C
  ( n=0 failures=0
    for i in $(seq 1 32); do
      dd if="/tmp/src/f$i" of="/mnt/fs/f$i" bs=1M conv=fsync status=none 2>>/tmp/full-writer.err || failures=$((failures + 1))
      n=$i; echo "$n $failures" >/tmp/full-writer.progress
    done
    echo "writer files=$n failures=$failures" ) >/tmp/full-writer.out &
  W=$!
  full=no
  for _ in $(seq 1 600); do
    [ "$(avail)" -le 2 ] && { full=yes; break; }
    kill -0 "$W" 2>/dev/null || break
    sleep 0.2
  done
  echo "state filesystem full=$full (free $(avail) MiB)"
  sleep 10
  # One reading, printed: what the writer, the metrics and status say while the disk is full.
  echo "while full: writer progress (files, failures)=$(cat /tmp/full-writer.progress 2>/dev/null)"
  scrape /tmp/full.prom
  for s in s3block_dirty_bytes s3block_journal_fill_ratio s3block_journal_disk_full s3block_journal_full_waiters s3block_journal_full_waits_total \
           s3block_volume_faulted s3block_volume_retries_total s3block_cache_disk_write_errors_total; do
    echo "while full: $s=$(value /tmp/full.prom $s)"
  done
  "$S3" status vf "${FOPTS[@]}" 2>&1 | sed 's/^/while full: status: /'
  grep -h -i -m 8 -e 'full' -e 'space' -e 'stopped accepting' -e 'fault' /tmp/f0.out /tmp/f0.err | cut -c1-300
  rm -f /mnt/small/filler && echo "filler deleted (free $(avail) MiB)"
  for _ in $(seq 1 900); do kill -0 "$W" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$W" 2>/dev/null && echo "writer still running 3 min after the filler went"
  wait "$W"; cat /tmp/full-writer.out; head -5 /tmp/full-writer.err
  sync
  start=$SECONDS
  # One reading per round decides (dirty and faulted from the same scrape); a faulted volume never drains.
  for _ in $(seq 1 180); do
    scrape /tmp/drain.prom; dirty=$(value /tmp/drain.prom s3block_dirty_bytes)
    [ "$dirty" = 0 ] || [ "$(value /tmp/drain.prom s3block_volume_faulted)" = 1 ] && break; sleep 1
  done
  echo "drained: not in S3 $dirty bytes after $((SECONDS - start)) s"
  "$S3" status vf "${FOPTS[@]}" 2>&1 | grep -e 'not in S3' -e 'faulted'
  umount /mnt/fs && echo "unmounted"
  fsck.ext4 -n -f "$DEV" >/tmp/fsck-full.txt 2>&1; echo "fsck rc=$?"
  tail -3 /tmp/fsck-full.txt
  echo 3 >/proc/sys/vm/drop_caches
  mount "$DEV" /mnt/fs && (cd /mnt/fs && md5sum -c --quiet /tmp/src.md5) && echo "data checksums match"
  umount /mnt/fs
  echo "kernel I/O errors on the device=$(dmesg | grep -i -e 'ublkb' -e 'EXT4-fs' | grep -ci -e 'error' -e 'read-only')"
  dmesg | grep -i -e 'ublkb' -e 'EXT4-fs' | grep -i -m 5 -e 'error' -e 'read-only'
  echo "volume faults=$(cat /tmp/f0.out /tmp/f0.err | grep -c 'stopped accepting writes')"
  stop_daemon
}

part_eio() {
  section eio
  mkdir -p /mnt/state/e && cd /mnt/state/e || exit 1
  EV=vol-eio
  EOPTS=(--set Journal:CapacityBytes=256MiB --set Journal:SegmentSizeBytes=16MiB --set Cache:DiskBudgetBytes=64MiB
         --set Volume:CommitInterval=00:01:00)
  "$S3" create "$EV" --size 256MiB --chunk-size 1MiB >/dev/null; echo "create rc=$?"
  start_daemon e0 run "$EV" "${EOPTS[@]}"
  EDEV=$DEV
  # 64 KiB writes, each O_DSYNC (a FLUSH/FUA: the journal fdatasyncs for every one).
  rm -f /tmp/stop-e
  ( n=0 ok=0 failed=0
    while [ ! -e /tmp/stop-e ] && [ "$n" -lt 3000 ]; do n=$((n + 1))
      if dd if=/dev/urandom of="$EDEV" bs=64k count=1 seek=$((n % 4000)) oflag=direct,dsync status=none 2>/dev/null
      then ok=$((ok + 1)); else failed=$((failed + 1)); fi
      echo "$n $ok $failed" >/tmp/e-writer.progress
    done
    echo "writer writes=$n ok=$ok failed=$failed" ) >/tmp/e-writer.out &
  EW=$!
  ok_writes() { cut -d' ' -f2 /tmp/e-writer.progress 2>/dev/null || echo 0; }
  wait_at_least 20 60 ok_writes && echo "writes flowing"
  dmsetup suspend --nolockfs state && dmsetup load state --table "0 $STATE_LEN flakey /dev/vda $STATE_OFF 0 3600 1 error_writes" \
    && dmsetup resume state && echo "journal device now fails every write"
  at_switch=$(cat /tmp/e-writer.progress)
  # Until the daemon says anything about it, or exits (60 s at most).
  seen=no
  for _ in $(seq 1 300); do
    grep -q -i -e 'fdatasync' -e 'input/output' -e 'EIO' -e 'stopped accepting' /tmp/e0.out /tmp/e0.err && { seen=yes; break; }
    kill -0 "$R" 2>/dev/null || { seen=exited; break; }
    sleep 0.2
  done
  sleep 2
  echo "failure seen in the log=$seen; writer (writes ok failed) at the switch: $at_switch, now: $(cat /tmp/e-writer.progress)"
  scrape /tmp/eio.prom
  for s in s3block_volume_faulted s3block_journal_fsyncs_total s3block_io_requests_total; do
    echo "metric $s=$(value /tmp/eio.prom $s)"
  done
  "$S3" status "$EV" "${EOPTS[@]}" 2>&1 | sed 's/^/status: /'
  grep -h -i -m 8 -e 'fdatasync' -e 'input/output' -e 'EIO' -e 'stopped accepting' -e 'fault' /tmp/e0.out /tmp/e0.err \
    | cut -c1-400 | sed 's/^/log: /'
  if kill -0 "$R" 2>/dev/null; then kill -9 "$R"; wait "$R" 2>/dev/null; echo "daemon still running: killed (as a crash would)"
  else wait "$R"; echo "daemon exited by itself rc=$?"; fi
  dmsetup suspend --nolockfs state && dmsetup load state --table "0 $STATE_LEN linear /dev/vda $STATE_OFF" \
    && dmsetup resume state && echo "journal device healthy again"
  # The next start: must refuse rather than replay journal pages whose fdatasync failed as if they were durable.
  "$S3" run "$EV" "${EOPTS[@]}" >/tmp/e1.out 2>/tmp/e1.err &
  R=$!
  state=timeout
  for _ in $(seq 1 600); do
    grep -q '^ready' /tmp/e1.out && { state=ready; break; }
    kill -0 "$R" 2>/dev/null || { state=exited; break; }
    sleep 0.2
  done
  case $state in
    exited) wait "$R"; echo "restart rc=$?" ;;
    ready) echo "restart: the daemon served the volume again: $(grep '^ready' /tmp/e1.out)"; stop_daemon ;;
    *) echo "restart: neither ready nor exited after 120 s"; kill -9 "$R"; wait "$R" 2>/dev/null ;;
  esac
  grep -v '^ready' /tmp/e1.out /tmp/e1.err -h | grep -v '^\s*$' | tail -n 12 | cut -c1-400 | sed 's/^/| /'
  touch /tmp/stop-e
  for d in /dev/ublkb*; do [ -b "$d" ] && "$S3" delete "${d#/dev/ublkb}" >/dev/null 2>&1; done
  for _ in $(seq 1 300); do kill -0 "$EW" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$EW" 2>/dev/null && echo "writer still blocked"
  cat /tmp/e-writer.out
}

# All parts in order by default; S3BLOCK_DURABILITY_PARTS picks some (setup first; kill-ext4 needs kill-fio's daemon).
for part in ${S3BLOCK_DURABILITY_PARTS:-setup kill-fio kill-ext4 full-disk eio}; do
  "part_${part//-/_}"
done
section end
