#!/usr/bin/env bash
# Guest side of bench/ab-lat.sh: cold-read latency, idle and while a backlog drains, through one s3block build under
# several settings (AB_VARIANTS), in alternating rounds. AB_SIZE_MIB carries the backlog's size.
set -u
. "$S3BLOCK_REPO/tests/vm/guest-lib.sh"
S3=$AB_BINARY
ROUNDS=${AB_ROUNDS:-3}
MIB=1048576
CHUNK=$((4 * MIB))
SIZE=$((128 * MIB))                 # region A: in S3 before the rounds, read cold (2 x LAT_READS chunks)
BACKLOG=$((${AB_SIZE_MIB:-384} * MIB))
BACKLOG_OFF=$((1024 * MIB))
LAT_READS=16
STATE=/mnt/state
METRICS=http://127.0.0.1:9464/metrics
BUCKET=s3block-ab
HELPER=$S3BLOCK_REPO/bench/peer-guest.py
log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
die() { log "FAILED: $*"; exit 1; }
metric() { curl -s -m 20 "$METRICS" | awk -v n="$1" '$1 == n { print $2 }'; }
dirty_mib() { echo $(($(metric s3block_dirty_bytes) / MIB)); }
all_in_s3() { # waits (SIGUSR1 asks for an upload now) until nothing is dirty and a commit newer than $1 is out
  local before=$1
  kill -USR1 "$R"
  for _ in $(seq 1 6000); do
    [ "$(metric s3block_dirty_bytes)" = 0 ] && [ "$(metric s3block_last_commit_number)" -gt "$before" ] && return 0
    sleep 0.2
  done
  die "not all in S3"
}
stop_daemon() {
  kill -TERM "$R"
  for _ in $(seq 1 600); do kill -0 "$R" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$R" 2>/dev/null && { log "daemon still running 2 min after SIGTERM"; kill -9 "$R"; }
  wait "$R" || log "daemon exited with $?"
}

# While the backlog drains: every 10 s, what is not in S3, what was uploaded, and who has the guest's CPUs (top's
# first processes) and how much CPU and I/O pressure there is.
sample() {
  while sleep 10; do
    log "  sample: dirty $(dirty_mib) MiB, uploaded $(metric s3block_uploaded_chunks_total) chunks, cpu pressure" \
      "$(awk '/some/ { print $2 }' /proc/pressure/cpu), io pressure $(awk '/some/ { print $2 }' /proc/pressure/io)"
    top -b -n 2 -d 2 -w 120 | awk '/^top -/ { n++ } n == 2' | sed -n '7,12p' | while read -r line; do log "    $line"; done
  done
}

. "$S3BLOCK_REPO/bench/ab-guest-lib.sh"
ab_setup
"$S3" create v --size 2GiB --chunk-size 4MiB --config $STATE/s3block.json >/dev/null || die "create"
start_daemon d run v --config $STATE/s3block.json >/dev/null || { cat /tmp/d.err; die "daemon"; }
fio --name=fill --eta=never --ioengine=io_uring --direct=1 --filename="$DEV" --rw=write --bs=1M --iodepth=8 --size=$SIZE \
  --output=/dev/null || die "fill"
all_in_s3 2
stop_daemon
log "setup: $((SIZE / MIB)) MiB in S3"

IFS=';' read -r -a VARS <<<"$AB_VARIANTS"
REVERSED=()
for ((i = ${#VARS[@]} - 1; i >= 0; i--)); do REVERSED+=("${VARS[i]}"); done
for round in $(seq 1 "$ROUNDS"); do
  order=("${VARS[@]}")
  [ $((round % 2)) = 0 ] && order=("${REVERSED[@]}") # alternate: no variant always meets the store first
  for v in "${order[@]}"; do
    name=${v%%=*} sets=() S3=$AB_BINARY; IFS=',' read -r -a kvs <<<"${v#*=}"
    for kv in "${kvs[@]}"; do
      case "$kv" in "") ;; bin:*) S3=${kv#bin:} ;; *) sets+=(--set "$kv") ;; esac
    done
    rm -rf "$STATE/s3block/v/cache"; sync; echo 3 >/proc/sys/vm/drop_caches
    start_daemon "d-$name" run v --config $STATE/s3block.json "${sets[@]}" >/dev/null || { cat "/tmp/d-$name.err"; die "daemon $name"; }
    python3 "$HELPER" cold-reads "$DEV" $CHUNK $((SIZE / CHUNK)) "$round" 0 $LAT_READS >/tmp/idle.txt || die "idle reads"
    fio --name=backlog --eta=never --ioengine=io_uring --direct=1 --filename="$DEV" --rw=write --bs=1M --iodepth=8 \
      --offset=$BACKLOG_OFF --size=$BACKLOG --output=/dev/null || die "backlog"
    before=$(dirty_mib) up_before=$(metric s3block_uploaded_chunks_total)
    sample &
    sampler=$!
    python3 "$HELPER" cold-reads "$DEV" $CHUNK $((SIZE / CHUNK)) "$round" $LAT_READS $LAT_READS >/tmp/busy.txt || die "busy reads"
    pkill -P "$sampler" 2>/dev/null; kill "$sampler" 2>/dev/null; { wait "$sampler"; } 2>/dev/null
    after=$(dirty_mib) up_after=$(metric s3block_uploaded_chunks_total)
    read -r i50 i99 <<<"$(python3 "$HELPER" pct 50 99 </tmp/idle.txt | tr '\n' ' ')"
    read -r b50 b99 <<<"$(python3 "$HELPER" pct 50 99 </tmp/busy.txt | tr '\n' ' ')"
    log "round $round $name idle p50/p99 $i50 / $i99 ms, backlog p50/p99 $b50 / $b99 ms," \
      "ratio $(awk -v b="$b50" -v i="$i50" 'BEGIN { printf "%.2f", b / i }'), not in S3 before/after $before / $after MiB," \
      "chunks uploaded during the reads $((up_after - up_before)), PUTs that yielded to reads" \
      "$(metric s3block_uploads_yielded_to_reads_total)"
    last=$(metric s3block_last_commit_number) # before the discard, whose all-zero commit needs no PUT and can be quick
    blkdiscard -o $BACKLOG_OFF -l $BACKLOG "$DEV" || die "discard"
    all_in_s3 "$last"
    stop_daemon
  done
done
log "done"
