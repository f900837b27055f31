#!/usr/bin/env bash
# Guest side of bench/ab-read.sh: a cold sequential read (1 MiB, QD 8) of a volume in RadosGW through one s3block
# build under several settings (AB_VARIANTS), and rclone GET of the same objects, in alternating rounds.
set -u
. "$S3BLOCK_REPO/tests/vm/guest-lib.sh"
S3=$AB_BINARY
ROUNDS=${AB_ROUNDS:-3}
SIZE=$((${AB_SIZE_MIB:-256} * 1048576))
STATE=/mnt/state
METRICS=http://127.0.0.1:9464/metrics
BUCKET=s3block-ab
log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
die() { log "FAILED: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
metric() { curl -s -m 20 "$METRICS" | awk -v n="$1" '$1 == n { print $2 }'; }

. "$S3BLOCK_REPO/bench/ab-guest-lib.sh"
ab_setup
export RCLONE_CONFIG=/dev/null RCLONE_CONFIG_RGW_TYPE=s3 RCLONE_CONFIG_RGW_PROVIDER=Ceph RCLONE_CONFIG_RGW_ENDPOINT=$S3BLOCK_TEST_S3_ENDPOINT \
  RCLONE_CONFIG_RGW_ACCESS_KEY_ID=$S3BLOCK_TEST_S3_ACCESS_KEY RCLONE_CONFIG_RGW_SECRET_ACCESS_KEY=$S3BLOCK_TEST_S3_SECRET_KEY \
  RCLONE_CONFIG_RGW_REGION=$S3BLOCK_TEST_S3_REGION
"$S3" create v --size 1GiB --chunk-size 4MiB --config $STATE/s3block.json >/dev/null || die "create"

# The data: SIZE written once (random bytes), then all in S3 (SIGUSR1 asks for an upload now).
start_daemon d run v --config $STATE/s3block.json >/dev/null || { cat /tmp/d.err; die "daemon"; }
fio --name=fill --eta=never --ioengine=io_uring --direct=1 --filename="$DEV" --rw=write --bs=1M --iodepth=8 --size=$SIZE \
  --output=/dev/null || die "fill"
kill -USR1 "$R"
for _ in $(seq 1 6000); do [ "$(metric s3block_dirty_bytes)" = 0 ] && [ "$(metric s3block_last_commit_number)" -gt 2 ] && break; sleep 0.2; done
[ "$(metric s3block_dirty_bytes)" = 0 ] || die "not all in S3"
kill -TERM "$R"; wait "$R"
log "setup: $((SIZE >> 20)) MiB in S3"

IFS=';' read -r -a VARS <<<"$AB_VARIANTS"
for round in $(seq 1 "$ROUNDS"); do
  rm -rf /tmp/rc-dst; sync; echo 3 >/proc/sys/vm/drop_caches
  t0=$(now)
  rclone copy "rgw:$BUCKET/v/chunks" /tmp/rc-dst --transfers 8 --checkers 8 --no-check-dest >/tmp/rclone.log 2>&1 || log "rclone failed"
  elapsed=$(since "$t0")
  got=$(find /tmp/rc-dst -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')
  log "round $round ref rclone-get mbps $(awk -v b="$got" -v s="$elapsed" 'BEGIN { printf "%.2f", b / s / 1e6 }') ($got bytes)"
  rm -rf /tmp/rc-dst
  for v in "${VARS[@]}"; do
    name=${v%%=*} sets=() ; IFS=',' read -r -a kvs <<<"${v#*=}"
    for kv in "${kvs[@]}"; do sets+=(--set "$kv"); done
    rm -rf "$STATE/s3block/v/cache"; sync; echo 3 >/proc/sys/vm/drop_caches
    start_daemon "d-$name" run v --config $STATE/s3block.json "${sets[@]}" >/dev/null || { cat "/tmp/d-$name.err"; die "daemon $name"; }
    rm -f /tmp/cold.json
    if ! fio --name=cold --eta=never --ioengine=io_uring --direct=1 --filename="$DEV" --rw=read --bs=1M --iodepth=8 --size=$SIZE \
      --output-format=json --output=/tmp/cold.json >/tmp/cold.out 2>&1; then
      log "fio failed on $DEV: $(tail -n 5 /tmp/cold.out | tr '\n' ' ')"
      log "daemon $name (pid $R, alive: $(kill -0 "$R" 2>/dev/null && echo yes || echo no)): $(tail -n 20 "/tmp/d-$name.err" | tr '\n' ' ')"
      log "daemon out: $(tail -n 5 "/tmp/d-$name.out" | tr '\n' ' ')"
      dmesg | tail -n 15 | while read -r line; do log "  dmesg: $line"; done
    fi
    log "round $round $name cold-read mbps $(python3 "$S3BLOCK_REPO/bench/peer-guest.py" fio-get /tmp/cold.json read_mbps)" \
      "fetched $(metric s3block_fetched_chunks_total) read_ahead $(metric s3block_readahead_chunks_total)"
    kill -TERM "$R"
    for _ in $(seq 1 600); do kill -0 "$R" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$R" 2>/dev/null && { log "daemon $name still running 2 min after SIGTERM: $(tail -n 20 "/tmp/d-$name.err" | tr '\n' ' ')"; kill -9 "$R"; }
    wait "$R" || log "daemon $name exited with $?"
  done
done
