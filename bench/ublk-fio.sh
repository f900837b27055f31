#!/usr/bin/env bash
# Benchmarks the ublk device against the kernel's loop device in ONE boot of the test VM, and prints ratios.
#   ours:      s3block serve-backend --backend memory (2 queues, depth 128)
#   reference: a loop device (direct I/O) over a file on tmpfs
# Jobs: 4k random read and write at queue depth 32, 128k sequential read and write; io_uring, O_DIRECT.
# Absolute numbers under qemu's software emulation mean little; compare the ratios.
#
#   bench/ublk-fio.sh [SECONDS_PER_JOB [ROUNDS]]   (default 8 and 3; needs tests/vm/setup.sh and a built src/Ublk.Host)
# Each job runs ROUNDS times per device, interleaved; the table shows medians (the emulator's speed drifts a lot).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-8}
rounds=${2:-3}
binary=${S3BLOCK_BIN:-$repo/artifacts/publish/s3block}
[ -x "$binary" ] || { echo "no s3block binary at $binary: dotnet publish -c Release src/Ublk.Host -o artifacts/publish" >&2; exit 2; }
results=$(mktemp -d "$repo/.cache/bench-XXXXXX")
trap 'rm -rf "$results"' EXIT

guest_script=$(cat <<'GUEST'
set -eu
jobs="randread:4k randwrite:4k read:128k write:128k"
run_job() { # device label job round
  rw=${3%%:*}; bs=${3##*:}
  fio --name=b --filename="$1" --rw="$rw" --bs="$bs" --iodepth=32 --ioengine=io_uring --direct=1 \
      --size=512M --time_based --runtime="$SECONDS_PER_JOB" --output-format=json \
      >"$S3BLOCK_VM_SHARE/$2-$rw-$bs-r$4.json"
}
"$S3BLOCK_BIN" serve-backend --backend memory --size 1GiB --queues 2 --depth 128 >/tmp/ours.out 2>&1 &
ours=$!
for _ in $(seq 1 300); do grep -q '^ready' /tmp/ours.out && break; sleep 0.2; done
dev=$(sed -n 's/^ready: \(\/dev\/ublkb[0-9]*\).*/\1/p' /tmp/ours.out)
dd if=/dev/urandom of="$dev" bs=1M count=512 oflag=direct status=none   # reads must not hit never-written pages
truncate -s 1G /tmp/loop.img
loop=$(losetup --find --show --direct-io=on /tmp/loop.img)
dd if=/dev/urandom of="$loop" bs=1M count=512 oflag=direct status=none
# Interleaved, alternating which goes first, so drift in the emulator's speed hits both sides alike.
for round in $(seq 1 "$ROUNDS"); do
  for job in $jobs; do
    if [ $((round % 2)) = 1 ]; then run_job "$dev" ublk "$job" "$round"; run_job "$loop" loop "$job" "$round"
    else run_job "$loop" loop "$job" "$round"; run_job "$dev" ublk "$job" "$round"; fi
  done
done
losetup -d "$loop"
kill -TERM "$ours"; wait "$ours" || true
GUEST
)

"$repo/tests/vm/run.sh" --share "$results" --timeout 1800 --env "S3BLOCK_BIN=$binary" --env "SECONDS_PER_JOB=$seconds" --env "ROUNDS=$rounds" \
  -- bash -c "$guest_script"

iops() { grep -o '"iops" : [0-9.]*' "$1" | awk '{s+=$3} END {printf "%.0f", s}'; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2)}'; }
echo "median of $rounds interleaved rounds of ${seconds}s per job and device"
printf '%-16s %12s %12s %7s   %s\n' job "ublk IOPS" "loop IOPS" ratio "ratio per round"
for job in randread-4k randwrite-4k read-128k write-128k; do
  per_round=""
  for r in $(seq 1 "$rounds"); do
    per_round="$per_round $(awk -v a="$(iops "$results/ublk-$job-r$r.json")" -v b="$(iops "$results/loop-$job-r$r.json")" \
      'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
  done
  ours=$(for r in $(seq 1 "$rounds"); do iops "$results/ublk-$job-r$r.json"; echo; done | median)
  ref=$(for r in $(seq 1 "$rounds"); do iops "$results/loop-$job-r$r.json"; echo; done | median)
  printf '%-16s %12.0f %12.0f %7.2f  %s\n' "$job" "$ours" "$ref" "$(awk -v a="$ours" -v b="$ref" 'BEGIN {print (b > 0 ? a / b : 0)}')" "$per_round"
done
