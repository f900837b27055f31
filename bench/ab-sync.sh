#!/usr/bin/env bash
# A/B of two s3block builds on the row that FLUSH latency decides: 4 KiB random write + fdatasync, QD 1, in ONE boot
# of the test VM, rounds alternating old / new, each round also measuring fio on a file on the same disk (the
# reference). The state (journal, cache) sits on a virtio disk (cache=none, ext4), with the embedded store unless AB_STORE says.
#
#   bench/ab-sync.sh OLD_BINARY NEW_BINARY [ROUNDS (3)] [RUNTIME_S (20)]
#   AB_STORE=/dev/shm/store bench/ab-sync.sh ...   the embedded store in the guest's RAM (as RadosGW on tmpfs in
#                                                  peer.sh) instead of on the state disk, where commits compete
#
# Build each side as it ships, `dotnet publish -c Release src/Ublk.Host -o DIR` (e.g. from a git worktree of the old
# commit).
# Hold the machine's VM lock: flock /tmp/s3block-vm.lock bench/ab-sync.sh ...
# Prints one line per run: IOPS, fio's lowest per-interval IOPS (stalls), fdatasync p50/p99; compare the ratios to
# the reference of the same round.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
old=$(realpath "${1:?old binary}") new=$(realpath "${2:?new binary}") rounds=${3:-3} runtime=${4:-20}
"$repo/tests/vm/run.sh" --check >/dev/null || { echo "the VM is not set up: tests/vm/setup.sh" >&2; exit 2; }
mkdir -p "$repo/artifacts/vm-disks"
disk="$repo/artifacts/vm-disks/ab-$$.img"
truncate -s 4G "$disk"
trap 'rm -f "$disk"' EXIT
"$repo/tests/vm/run.sh" --disk "$disk" --timeout $((600 + rounds * (runtime * 3 + 90))) \
  --env "AB_OLD=$old" --env "AB_NEW=$new" --env "AB_ROUNDS=$rounds" --env "AB_RUNTIME=$runtime" --env "AB_STORE=${AB_STORE:-}" --env "S3BLOCK_REPO=$repo" \
  -- bash "$repo/bench/ab-sync-guest.sh"
