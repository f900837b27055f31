#!/usr/bin/env bash
# Guest side of bench/ab-rss.sh: the daemon's memory under the peer benchmark's S3Block workloads, per variant.
set -u
. "$S3BLOCK_REPO/tests/vm/guest-lib.sh"
S3=$AB_BINARY
ROUNDS=${AB_ROUNDS:-2}
SIZE=$((${AB_SIZE_MIB:-512} * 1048576))
STATE=/mnt/state
METRICS=http://127.0.0.1:9464/metrics
BUCKET=s3block-ab
log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
die() { log "FAILED: $*"; exit 1; }
metric() { curl -s -m 20 "$METRICS" | awk -v n="$1" '$1 == n { print $2 }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }   # KiB -> MiB
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$R/status" 2>/dev/null; }
# RSS (MiB) of the daemon's mappings by kind: gc = anonymous mappings inside a contiguous run of at least 1 GiB of
# address space (the GC reserves its regions up front and commits parts of them), anon = the other anonymous ones
# (native buffers such as the tag buffers, thread stacks, the runtime's own heaps), file = mapped files.
split_rss() {
  /usr/bin/python3 - "/proc/$R/smaps" <<'PY'
import sys
maps = []  # [lo, hi, anonymous, rss KiB]
for line in open(sys.argv[1]):
    f = line.split()
    if "-" in f[0] and len(f) >= 5 and ":" in f[3]:
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        maps.append([lo, hi, len(f) < 6 or f[5].startswith("["), 0])
    elif f[0] == "Rss:":
        maps[-1][3] += int(f[1])
kib = {"gc": 0, "anon": 0, "file": 0}
i = 0
while i < len(maps):
    j = i
    while j + 1 < len(maps) and maps[j + 1][0] == maps[j][1] and maps[j + 1][2] and maps[i][2]:
        j += 1
    run = maps[i:j + 1]
    for lo, hi, anonymous, rss in run:
        kib["file" if not anonymous else "gc" if run[-1][1] - run[0][0] >= 1 << 30 else "anon"] += rss
    i = j + 1
print(" ".join(f"{k}={v // 1024}" for k, v in kib.items()))
PY
}
# Waits until everything written is in S3 (SIGUSR1 asks for an upload now).
in_s3() {
  local commit0 t=$SECONDS
  commit0=$(metric s3block_last_commit_number)
  kill -USR1 "$R"
  for _ in $(seq 1 6000); do
    kill -0 "$R" 2>/dev/null || { log "daemon gone: $(tail -n 5 /tmp/d.err | tr '\n' ' ')"; return 1; }
    [ "$(metric s3block_dirty_bytes)" = 0 ] && [ "$(metric s3block_last_commit_number)" -gt "$commit0" ] && { echo $((SECONDS - t)); return 0; }
    sleep 0.2
  done
  return 1
}
step() { # NAME: one line with the RSS now, the peak so far and the GC's view
  log "  $1: rss $(mib "$(rss)") MiB, peak $(mib "$(cat /tmp/peak)") MiB, gc heap $(metric dotnet_total_memory_bytes | awk '{ printf "%.0f", $1 / 1048576 }') MiB"
}

. "$S3BLOCK_REPO/bench/ab-guest-lib.sh"
ab_setup
export S3BLOCK_Journal__CapacityBytes=2GiB

IFS=';' read -r -a VARS <<<"$AB_VARIANTS"
for round in $(seq 1 "$ROUNDS"); do
  for v in "${VARS[@]}"; do
    name=${v%%=*} sets=() envs=() bin=$S3
    IFS=',' read -r -a kvs <<<"${v#*=}"
    for kv in "${kvs[@]}"; do
      case "$kv" in "") ;; env:*) envs+=("${kv#env:}") ;; bin:*) bin=${kv#bin:} ;; *) sets+=(--set "$kv") ;; esac
    done
    vol="v$round-$name"
    "$S3" create "$vol" --size 2GiB --chunk-size 4MiB --config $STATE/s3block.json >/dev/null || die "create $vol"
    log "round $round $name: $bin ${sets[*]} ${envs[*]}"
    env "${envs[@]}" "$bin" run "$vol" --config $STATE/s3block.json "${sets[@]}" >/tmp/d.out 2>/tmp/d.err &
    R=$!
    wait_ready /tmp/d.out /tmp/d.err >/dev/null || die "daemon $name"
    DEV=$(device_of /tmp/d.out)
    echo 0 >/tmp/peak
    ( peak=0; while kill -0 "$R" 2>/dev/null; do k=$(rss); [ -n "$k" ] && [ "$k" -gt "$peak" ] && { peak=$k; echo "$peak" >/tmp/peak; }; sleep 0.5; done ) &
    S=$!
    step started
    fio --name=w --eta=never --ioengine=io_uring --direct=1 --filename="$DEV" --rw=write --bs=1M --iodepth=8 --size=$SIZE \
      --output=/dev/null || log "fio write failed"
    step written
    s=$(in_s3) || die "$name: not all in S3"
    step "in S3 after $s s"
    fio --name=r --eta=never --ioengine=io_uring --direct=1 --filename="$DEV" --rw=randread --bs=4k --iodepth=32 --size=$SIZE \
      --time_based --runtime=10 --output=/dev/null || log "fio randread failed"
    step "warm random read"
    fio --name=s --eta=never --ioengine=io_uring --direct=1 --filename="$DEV" --rw=read --bs=1M --iodepth=8 --size=$SIZE \
      --output=/dev/null || log "fio read failed"
    step "sequential read"
    fio --name=w2 --eta=never --ioengine=io_uring --direct=1 --filename="$DEV" --rw=write --bs=1M --iodepth=8 --size=$SIZE \
      --end_fsync=1 --output=/dev/null || log "fio write 2 failed"
    step "written again + fsync"
    s=$(in_s3) || die "$name: not all in S3 (2)"
    step "in S3 after $s s"
    log "round $round $name peak_rss_mib $(mib "$(awk '/^VmHWM/ { print $2 }' "/proc/$R/status")") end: $(split_rss)"
    kill -TERM "$R"
    for _ in $(seq 1 600); do kill -0 "$R" 2>/dev/null || break; sleep 0.2; done
    wait "$R" || log "daemon $name exited with $?"
    wait "$S" 2>/dev/null
  done
done
