#!/usr/bin/env bash
# Guest side of bench/peer.sh (runs inside the test VM, started by tests/vm/run.sh; do not run it on a host).
# One boot: RadosGW on the guest's loopback (data on tmpfs), a virtio disk (/dev/vda, cache=none) as the local disk
# that holds S3Block's state (journal + chunk cache), s3backer's cache file and the local-disk reference files.
#
# Systems:  s3block  s3block run (S3 volume: journal, cache, uploader) -> /dev/ublkbN
#           s3backer s3backer 1.5.4 in FUSE mode, 4 MiB blocks, cache file on the disk, MD5 cache and write delay
#                    off, its file behind a loop device (direct I/O)
#           ref      what bounds each row: fio on a file on the same disk, rclone PUT/GET of 4 MiB objects with 8
#                    transfers, the kernel loop device over tmpfs
# Workloads, per round, each on every system in an order that alternates between rounds:
#   sync       4 KiB random write + fdatasync, QD 1, RUNTIME s                     (ref: file on the disk)
#   to-s3      SIZE written sequentially (1 MiB, QD 8), timed until all in S3      (ref: rclone PUT)
#   cold-read  SIZE read sequentially (1 MiB, QD 8), local cache emptied before     (ref: rclone GET)
#   warm-read  4 KiB random read, QD 32, RUNTIME s, over the SIZE just read         (ref: loop over tmpfs)
#   seq-write  SIZE written sequentially (1 MiB, QD 8) + fsync, into the device     (ref: file on the disk)
# After the rounds: cold 4 KiB reads (one per chunk never read since the cache was emptied) on an idle volume and
# while a BACKLOG-sized write-back drains; then S3 requests and bytes uploaded for 4 KiB random writes, per chunk
# size (S3Block only). Every write workload is followed by an untimed wait until all is in S3 so that no system's
# background upload runs while another is measured.
#
# Output: $S3BLOCK_VM_SHARE/results.tsv (round, system, workload, metric, value), raw fio JSON under raw/, logs.
# Environment (set by bench/peer.sh): S3BLOCK_BIN, S3BLOCK_REPO, SIZE, ROUNDS, RUNTIME, BACKLOG, LAT_READS,
# AMP_BYTES, AMP_SPAN, AMP_CHUNKS, CACHE_BYTES (disk cache of both), RAM_CACHE_BYTES (S3Block's RAM tier),
# JOURNAL_BYTES, SEED.
set -u

OUT=$S3BLOCK_VM_SHARE
RAW=$OUT/raw
mkdir -p "$RAW"
RESULTS=$OUT/results.tsv
: >"$RESULTS"
S3="$S3BLOCK_BIN"
HELPER="$S3BLOCK_REPO/bench/peer-guest.py"
MIB=1048576
CHUNK=$((4 * MIB))        # S3Block's chunk and s3backer's block
SYNC_SPAN=$((64 * MIB))   # the 4 KiB sync writes land at random in this span
STATE=${PEER_STATE:-/mnt/state}   # the virtio disk's filesystem
METRICS=http://127.0.0.1:9464/metrics
BUCKET=s3block-bench
SB_BUCKET=s3backer-bench
RC_BUCKET=rclone-bench

# Regions of the two devices: A (to-s3, cold-read, warm-read, latency reads), the seq-write region, the sync span,
# the backlog region.
SEQ_OFF=$SIZE
SYNC_OFF=$((2 * SIZE))
BACKLOG_OFF=$((SYNC_OFF + SYNC_SPAN))
VOL_BYTES=$(((BACKLOG_OFF + BACKLOG + 1073741823) / 1073741824 * 1073741824))

export S3BLOCK_Journal__CapacityBytes=$JOURNAL_BYTES
# shellcheck source=../tests/vm/guest-lib.sh
. "$S3BLOCK_REPO/tests/vm/guest-lib.sh"

log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
die() { log "FAILED: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
# One result row; also shown on the console.
rec() { # ROUND SYSTEM WORKLOAD METRIC VALUE
  printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"
  log "  $2 $3 $4=$5"
}
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.2f", (s > 0 ? b / s / 1e6 : 0) }'; }
fio_get() { python3 "$HELPER" fio-get "$@"; }

# fio with the settings every job shares; JSON into raw/NAME.json.
fio_run() { # NAME FIO-ARGS...
  local name=$1; shift
  fio --name=b --ioengine=io_uring --direct=1 --output-format=json "$@" >"$RAW/$name.json" 2>"$RAW/$name.err" ||
    log "fio $name failed: $(tail -n 3 "$RAW/$name.err")"
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }

# ---------------------------------------------------------------------------------------------------- S3Block

# Sum of a metric's samples (all label sets containing FILTER) in one scrape FILE.
msum() { # FILE NAME [FILTER]
  awk -v n="$2" -v f="${3:-}" '($1 == n || index($1, n "{") == 1) && index($1, f) { s += $2 } END { printf "%.0f\n", s }' "$1"
}
scrape() { curl -s -m 20 "$METRICS" >"$1" || log "scrape failed"; }

S3B_PIDS_HWM=0   # the highest VmHWM of any s3block process so far, KiB
note_hwm() { # PID VAR
  local kib
  kib=$(awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null)
  [ -n "$kib" ] && [ "$kib" -gt "${!2}" ] && printf -v "$2" '%s' "$kib"
  return 0
}

s3block_start() { # [VOLUME]
  start_daemon s3block run "${1:-bench}" --config "$STATE/s3block.json" >/dev/null || die "s3block did not start"
  S3B_PID=$R S3B_DEV=$DEV
}
s3block_stop() {
  note_hwm "$S3B_PID" S3B_PIDS_HWM
  kill -TERM "$S3B_PID"
  for _ in $(seq 1 3000); do kill -0 "$S3B_PID" 2>/dev/null || break; sleep 0.2; done
  wait "$S3B_PID" || log "s3block exited with $?"
  cat /tmp/s3block.out /tmp/s3block.err >>"$OUT/s3block.log" 2>/dev/null   # each start truncates them
}
# Waits until everything written before is in S3: asks for an upload now (SIGUSR1, as `s3block flush` does) and
# polls the daemon's metrics until nothing is dirty and, if something was, a newer commit is published.
s3block_in_s3() {
  local m=/tmp/m.txt dirty0 commit0 dirty commit
  scrape $m; dirty0=$(msum $m s3block_dirty_bytes); commit0=$(msum $m s3block_last_commit_number)
  kill -USR1 "$S3B_PID"
  for _ in $(seq 1 6000); do
    if ! kill -0 "$S3B_PID" 2>/dev/null; then
      log "s3block exited while uploading: $(tail -n 3 /tmp/s3block.err | tr '\n' ' ')"
      dmesg | grep -i -e "out of memory" -e oom-kill | tail -n 3 | while read -r line; do log "  dmesg: $line"; done
      return 1
    fi
    scrape $m; dirty=$(msum $m s3block_dirty_bytes); commit=$(msum $m s3block_last_commit_number)
    [ "$dirty" = 0 ] && { [ "$dirty0" = 0 ] || [ "$commit" -gt "$commit0" ]; } && return 0
    sleep 0.2
  done
  log "s3block: still $dirty bytes not in S3 after 20 min"; return 1
}
s3block_dirty() { local m=/tmp/md.txt; scrape $m; msum $m s3block_dirty_bytes; }
s3block_empty_cache() { s3block_stop; rm -rf "$STATE/s3block/bench/cache"; drop_caches; s3block_start; }

# --------------------------------------------------------------------------------------------------- s3backer

SB_HWM=0
s3backer_start() {
  mkdir -p /mnt/s3b
  s3backer -f --accessFile=/tmp/s3backer.access --baseURL="$S3BLOCK_TEST_S3_ENDPOINT/" --blockSize=4M \
    --size="$VOL_BYTES" --blockCacheFile="$STATE/s3backer.cache" --blockCacheSize=$((CACHE_BYTES / CHUNK)) \
    --blockCacheWriteDelay=0 --md5CacheSize=0 --md5CacheTime=0 --minWriteDelay=0 --listBlocks \
    "$SB_BUCKET" /mnt/s3b >>"$OUT/s3backer.log" 2>&1 &
  SB_PID=$!
  for _ in $(seq 1 600); do [ -e /mnt/s3b/file ] && break; kill -0 "$SB_PID" 2>/dev/null || break; sleep 0.2; done
  [ -e /mnt/s3b/file ] || { tail -n 20 "$OUT/s3backer.log"; die "s3backer did not mount"; }
  SB_DEV=$(losetup --find --show --direct-io=on /mnt/s3b/file) || die "losetup on the s3backer file failed"
}
s3backer_stop() {
  note_hwm "$SB_PID" SB_HWM
  losetup -d "$SB_DEV"
  for _ in $(seq 1 50); do umount /mnt/s3b 2>/dev/null && break; sleep 0.2; done   # the loop device lets go lazily
  for _ in $(seq 1 3000); do kill -0 "$SB_PID" 2>/dev/null || break; sleep 0.2; done
  wait "$SB_PID" || log "s3backer exited with $?"
}
sb_stat() { awk -v k="$1" '$1 == k { print $2 }' /mnt/s3b/stats; }
# Waits until no block in s3backer's cache is dirty (a block stays dirty until its PUT succeeded).
s3backer_in_s3() {
  for _ in $(seq 1 6000); do
    [ "$(sb_stat block_cache_dirty_ratio)" = 0.0000 ] && return 0
    sleep 0.2
  done
  log "s3backer: dirty blocks left after 20 min"; return 1
}
s3backer_dirty() { awk -v r="$(sb_stat block_cache_dirty_ratio)" -v n=$((CACHE_BYTES / CHUNK)) -v c=$CHUNK 'BEGIN { printf "%.0f\n", r * n * c }'; }
s3backer_empty_cache() { s3backer_stop; rm -f "$STATE/s3backer.cache"; drop_caches; s3backer_start; }

# ------------------------------------------------------------------------------------------------------ rclone

export RCLONE_CONFIG=/dev/null RCLONE_CONFIG_RGW_TYPE=s3 RCLONE_CONFIG_RGW_PROVIDER=Ceph
rclone_q() { rclone "$@" >>"$OUT/rclone.log" 2>&1; }

# ------------------------------------------------------------------------------------------------- workloads

dev_of() { case $1 in s3block) echo "$S3B_DEV" ;; s3backer) echo "$SB_DEV" ;; esac; }
in_s3() { "$1"_in_s3; }

w_sync() { # ROUND SYSTEM
  local name="r$1-$2-sync" target=$STATE/ref-sync.img offset=0
  [ "$2" = ref ] || { target=$(dev_of "$2"); offset=$SYNC_OFF; }
  fio_run "$name" --filename="$target" --rw=randwrite --bs=4k --iodepth=1 --fdatasync=1 --offset=$offset \
    --size=$SYNC_SPAN --time_based --runtime="$RUNTIME" --randseed="$SEED"
  local v
  # One python start for the three numbers: each costs seconds under TCG. (No process substitution: the guest has
  # no /dev/fd.)
  read -r -a v <<<"$(fio_get "$RAW/$name.json" write_iops write_p99_ms sync_p99_ms | tr '\n' ' ')"
  rec "$1" "$2" sync iops "${v[0]:-}"
  rec "$1" "$2" sync p99_write_ms "${v[1]:-}"
  rec "$1" "$2" sync p99_fdatasync_ms "${v[2]:-}"
  [ "$2" = ref ] || in_s3 "$2"
}

w_to_s3() { # ROUND SYSTEM
  local name="r$1-$2-to-s3" t0
  drop_caches
  t0=$(now)
  if [ "$2" = ref ]; then
    rclone_q copy /tmp/rc-src "rgw:$RC_BUCKET/r$1" --s3-no-check-bucket --transfers 8 --checkers 8 --no-check-dest || log "rclone PUT failed"
  else
    fio_run "$name" --filename="$(dev_of "$2")" --rw=write --bs=1M --iodepth=8 --offset=0 --size="$SIZE"
    rec "$1" "$2" to-s3 device_mbps "$(fio_get "$RAW/$name.json" write_mbps)"
    in_s3 "$2"
  fi
  rec "$1" "$2" to-s3 mbps "$(mbps "$SIZE" "$(since "$t0")")"
}

w_cold_read() { # ROUND SYSTEM
  local name="r$1-$2-cold-read" t0 elapsed got
  if [ "$2" = ref ]; then
    rm -rf /tmp/rc-dst; drop_caches
    t0=$(now)
    rclone_q copy "rgw:$RC_BUCKET/r$1" /tmp/rc-dst --transfers 8 --checkers 8 --no-check-dest || log "rclone GET failed"
    elapsed=$(since "$t0")
    got=$(find /tmp/rc-dst -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')
    [ "$got" = "$SIZE" ] || log "rclone GET: $got bytes, expected $SIZE"
    rec "$1" ref cold-read mbps "$(mbps "$SIZE" "$elapsed")"
    rm -rf /tmp/rc-dst; rclone_q purge "rgw:$RC_BUCKET/r$1"
  else
    "$2"_empty_cache
    fio_run "$name" --filename="$(dev_of "$2")" --rw=read --bs=1M --iodepth=8 --offset=0 --size="$SIZE"
    rec "$1" "$2" cold-read mbps "$(fio_get "$RAW/$name.json" read_mbps)"
  fi
}

w_warm_read() { # ROUND SYSTEM
  local name="r$1-$2-warm-read" target
  target=$([ "$2" = ref ] && echo "$REF_LOOP" || dev_of "$2")
  fio_run "$name" --filename="$target" --rw=randread --bs=4k --iodepth=32 --offset=0 --size="$SIZE" \
    --time_based --runtime="$RUNTIME" --randseed="$SEED"
  rec "$1" "$2" warm-read iops "$(fio_get "$RAW/$name.json" read_iops)"
}

w_seq_write() { # ROUND SYSTEM
  local name="r$1-$2-seq-write" target=$STATE/ref-seq.img offset=0
  [ "$2" = ref ] || { target=$(dev_of "$2"); offset=$SEQ_OFF; }
  fio_run "$name" --filename="$target" --rw=write --bs=1M --iodepth=8 --end_fsync=1 --offset=$offset --size="$SIZE"
  rec "$1" "$2" seq-write mbps "$(fio_get "$RAW/$name.json" write_mbps)"
  [ "$2" = ref ] || in_s3 "$2"
}

# Cold 4 KiB reads of chunks of region A that no read touched since the cache was emptied: LAT_READS on the idle
# system, then LAT_READS more right after BACKLOG was written (while it drains).
latency() { # SYSTEM
  local sys=$1 dev v
  log "latency: $sys"
  "$sys"_empty_cache
  dev=$(dev_of "$sys")
  python3 "$HELPER" cold-reads "$dev" $CHUNK $((SIZE / CHUNK)) "$SEED" 0 "$LAT_READS" >"$RAW/lat-$sys-idle.txt"
  read -r -a v <<<"$(python3 "$HELPER" pct 50 99 <"$RAW/lat-$sys-idle.txt" | tr '\n' ' ')"
  rec 0 "$sys" latency-idle p50_ms "${v[0]:-}"
  rec 0 "$sys" latency-idle p99_ms "${v[1]:-}"
  fio_run "lat-$sys-backlog" --filename="$dev" --rw=write --bs=1M --iodepth=8 --offset=$BACKLOG_OFF --size="$BACKLOG"
  rec 0 "$sys" latency-backlog written_mbps "$(fio_get "$RAW/lat-$sys-backlog.json" write_mbps)"
  rec 0 "$sys" latency-backlog dirty_before_mib $(($("$sys"_dirty) / MIB))
  python3 "$HELPER" cold-reads "$dev" $CHUNK $((SIZE / CHUNK)) "$SEED" "$LAT_READS" "$LAT_READS" >"$RAW/lat-$sys-busy.txt"
  rec 0 "$sys" latency-backlog dirty_after_mib $(($("$sys"_dirty) / MIB))
  read -r -a v <<<"$(python3 "$HELPER" pct 50 99 <"$RAW/lat-$sys-busy.txt" | tr '\n' ' ')"
  rec 0 "$sys" latency-backlog p50_ms "${v[0]:-}"
  rec 0 "$sys" latency-backlog p99_ms "${v[1]:-}"
  in_s3 "$sys"
}

# S3 requests and bytes uploaded for AMP_BYTES of 4 KiB random writes (QD 32) over AMP_SPAN, on a fresh volume of
# each chunk size, counted by the daemon's own metrics from just before the writes until all is in S3.
amplification() {
  local c name m0=/tmp/amp0.txt m1=/tmp/amp1.txt t0 elapsed
  for c in $AMP_CHUNKS; do
    name=amp-$(echo "$c" | tr 'A-Z' 'a-z')
    log "amplification: chunk size $c"
    "$S3" create "$name" --size "$AMP_SPAN" --chunk-size "$c" --config "$STATE/s3block.json" >>"$OUT/s3block-create.log" 2>&1 ||
      { log "create $name failed"; continue; }
    s3block_start "$name"
    scrape $m0
    t0=$(now)
    fio_run "$name" --filename="$S3B_DEV" --rw=randwrite --bs=4k --iodepth=32 --size="$AMP_SPAN" --io_size="$AMP_BYTES" \
      --randseed="$SEED"
    elapsed=$(since "$t0")
    if ! s3block_in_s3; then s3block_stop; log "amplification at $c: no result"; continue; fi
    scrape $m1
    rec 0 s3block "amp-$c" written_bytes "$(fio_get "$RAW/$name.json" write_bytes)"
    rec 0 s3block "amp-$c" write_seconds "$elapsed"
    rec 0 s3block "amp-$c" requests $(($(msum $m1 s3block_s3_requests_total) - $(msum $m0 s3block_s3_requests_total)))
    rec 0 s3block "amp-$c" puts $(($(msum $m1 s3block_s3_requests_total 'operation="PutObject"') - $(msum $m0 s3block_s3_requests_total 'operation="PutObject"')))
    rec 0 s3block "amp-$c" uploaded_bytes $(($(msum $m1 s3block_s3_bytes_total 'direction="upload"') - $(msum $m0 s3block_s3_bytes_total 'direction="upload"')))
    rec 0 s3block "amp-$c" uploaded_chunks $(($(msum $m1 s3block_uploaded_chunks_total) - $(msum $m0 s3block_uploaded_chunks_total)))
    s3block_stop
    rclone_q purge "rgw:$BUCKET/$name"   # the volume's objects: RadosGW keeps its data in the guest's RAM
  done
}

# ------------------------------------------------------------------------------------------------------- setup

main() {
cd /tmp   # the working folder the guest inherits is the read-only repository
log "setup: sizes SIZE=$SIZE ROUNDS=$ROUNDS RUNTIME=${RUNTIME}s BACKLOG=$BACKLOG LAT_READS=$LAT_READS AMP=$AMP_BYTES/$AMP_SPAN [$AMP_CHUNKS] volume $VOL_BYTES"
dmesg -n 1
mount -o remount,size=85% /tmp
modprobe -a virtio_blk fuse || die "modprobe virtio_blk fuse"
for _ in $(seq 1 100); do [ -b /dev/vda ] && break; sleep 0.1; done
[ -b /dev/vda ] || die "no /dev/vda"
mkfs.ext4 -q -F /dev/vda && mkdir -p $STATE && mount /dev/vda $STATE || die "state disk"
{ echo "guest_kernel=$(uname -r)"; echo "guest_cpus=$(nproc)"; echo "guest_mem_mib=$(($(awk '/MemTotal/ { print $2 }' /proc/meminfo) / 1024))"
  echo "state_disk=virtio, cache=none, ext4, $(($(blockdev --getsize64 /dev/vda) / MIB)) MiB"
  echo "volume_bytes=$VOL_BYTES"; } >"$OUT/guest.txt"

bash "$S3BLOCK_REPO/tests/localstack/radosgw.sh" start /tmp/rgw >"$OUT/rgw.log" 2>&1 || { tail -n 30 "$OUT/rgw.log"; die "radosgw"; }
. /tmp/rgw/env
export RCLONE_CONFIG_RGW_ENDPOINT=$S3BLOCK_TEST_S3_ENDPOINT RCLONE_CONFIG_RGW_ACCESS_KEY_ID=$S3BLOCK_TEST_S3_ACCESS_KEY \
  RCLONE_CONFIG_RGW_SECRET_ACCESS_KEY=$S3BLOCK_TEST_S3_SECRET_KEY RCLONE_CONFIG_RGW_REGION=$S3BLOCK_TEST_S3_REGION
for b in $BUCKET $SB_BUCKET $RC_BUCKET; do rclone_q mkdir "rgw:$b" || die "bucket $b"; done
log "setup: radosgw up at $S3BLOCK_TEST_S3_ENDPOINT"

cat >$STATE/s3block.json <<JSON
{
  "Store": { "Kind": "s3", "S3": { "ServiceUrl": "$S3BLOCK_TEST_S3_ENDPOINT", "Bucket": "$BUCKET",
    "AccessKey": "$S3BLOCK_TEST_S3_ACCESS_KEY", "SecretKey": "$S3BLOCK_TEST_S3_SECRET_KEY", "Region": "$S3BLOCK_TEST_S3_REGION" } },
  "Daemon": { "StateDirectory": "$STATE/s3block" },
  "Cache": { "DiskBudgetBytes": $CACHE_BYTES, "MemoryBudgetBytes": $RAM_CACHE_BYTES }
}
JSON
"$S3" create bench --size "$VOL_BYTES" --chunk-size 4MiB --config $STATE/s3block.json >>"$OUT/s3block-create.log" 2>&1 || die "s3block create"
s3block_start
log "setup: s3block serves $S3B_DEV"
printf '%s:%s\n' "$S3BLOCK_TEST_S3_ACCESS_KEY" "$S3BLOCK_TEST_S3_SECRET_KEY" >/tmp/s3backer.access
chmod 600 /tmp/s3backer.access
s3backer_start
log "setup: s3backer serves $SB_DEV (loop direct I/O: $(cat "/sys/block/${SB_DEV#/dev/}/loop/dio"))"
echo "s3backer_loop_dio=$(cat "/sys/block/${SB_DEV#/dev/}/loop/dio")" >>"$OUT/guest.txt"

# References: files on the state disk written once (the jobs overwrite them), a loop device over tmpfs, rclone's
# 4 MiB source objects on tmpfs.
dd if=/dev/urandom of=$STATE/ref-sync.img bs=1M count=$((SYNC_SPAN / MIB)) oflag=direct status=none
dd if=/dev/urandom of=$STATE/ref-seq.img bs=1M count=$((SIZE / MIB)) oflag=direct status=none
dd if=/dev/urandom of=/tmp/ref-loop.img bs=1M count=$((SIZE / MIB)) status=none
REF_LOOP=$(losetup --find --show --direct-io=on /tmp/ref-loop.img) || die "reference loop device"
mkdir -p /tmp/rc-src
for i in $(seq 1 $((SIZE / CHUNK))); do head -c $CHUNK /dev/urandom >"/tmp/rc-src/obj$(printf %05d "$i")"; done
sync
log "setup: done"

# ------------------------------------------------------------------------------------------------------ rounds

for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="s3block s3backer ref"; else order="ref s3backer s3block"; fi
  for w in sync to_s3 cold_read warm_read seq_write; do
    log "round $round: $w ($order)"
    for sys in $order; do "w_$w" "$round" "$sys"; done
  done
done

for sys in s3block s3backer; do latency "$sys"; done

note_hwm "$S3B_PID" S3B_PIDS_HWM
note_hwm "$SB_PID" SB_HWM
s3block_stop
s3backer_stop
rec 0 s3block rss peak_mib $((S3B_PIDS_HWM / 1024))
rec 0 s3backer rss peak_mib $((SB_HWM / 1024))
rec 0 ref rss budget_mib $((RAM_CACHE_BYTES / MIB))

amplification

log "done"
}

# PEER_GUEST_LIB=1: define the functions only (to try parts of this script by hand).
[ "${PEER_GUEST_LIB:-0}" = 1 ] || main
