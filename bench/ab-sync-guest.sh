#!/usr/bin/env bash
# Guest side of bench/ab-sync.sh: 4 KiB random write + fdatasync QD 1 through two s3block builds (AB_OLD, AB_NEW)
# and fio on a file on the same virtio disk (the reference), in alternating rounds.
set -u
. "$S3BLOCK_REPO/tests/vm/guest-lib.sh"
ROUNDS=${AB_ROUNDS:-3}
RUNTIME=${AB_RUNTIME:-20}
# AB_STORE: where the embedded store keeps its objects (default: on the state disk, competing with the journal;
# /dev/shm/store: in RAM, like RadosGW on tmpfs in bench/peer.sh).
STORE_SET=(); [ -n "${AB_STORE:-}" ] && STORE_SET=(--set "Store:Local:Path=$AB_STORE")
modprobe virtio_blk 2>/dev/null; sleep 1
mkfs.ext4 -q -F /dev/vda && mkdir -p /mnt/state && mount /dev/vda /mnt/state && cd /mnt/state || exit 1
echo "state on $(df --output=source . | tail -1)"

sync_job() { # TARGET SECONDS FIO-ARGS...: the measured job, 4 KiB random writes over 64 MiB, each followed by fdatasync
  local target=$1 seconds=$2; shift 2
  fio --name=sync --eta=never --filename="$target" --rw=randwrite --bs=4k --iodepth=1 --fdatasync=1 --size=64M \
    --time_based --runtime="$seconds" "$@"
}
summary() { # FIO-JSON
  local v
  read -r -a v <<<"$(python3 "$S3BLOCK_REPO/bench/peer-guest.py" fio-get "$1" write_iops write_iops_min sync_p50_ms sync_p99_ms | tr '\n' ' ')"
  echo "iops ${v[0]} min ${v[1]} sync p50 ${v[2]} ms p99 ${v[3]} ms"
}

for round in $(seq 1 "$ROUNDS"); do
  rm -f ./ref.img
  sync_job ./ref.img "$RUNTIME" --output-format=json --output=/tmp/ref.json >/dev/null 2>&1
  echo "round $round ref $(summary /tmp/ref.json)"
  rm -f ./ref.img
  for which in old new; do
    if [ "$which" = old ]; then S3=$AB_OLD; else S3=$AB_NEW; fi
    rm -rf ./data "${AB_STORE:-./data}"
    "$S3" create v --size 1GiB --chunk-size 4MiB "${STORE_SET[@]}" >/dev/null || exit 1
    start_daemon d-$which run v "${STORE_SET[@]}" >/dev/null || { cat /tmp/d-$which.err; exit 1; }
    sync_job "$DEV" 5 --output=/dev/null # warm-up (caches, and the JIT of a JIT build)
    sync_job "$DEV" "$RUNTIME" --output-format=json --output=/tmp/m.json >/dev/null 2>&1
    echo "round $round $which $(summary /tmp/m.json)"
    kill -TERM "$R"; wait "$R"
  done
done
