#!/usr/bin/env bash
# Guest side of bench/ab-sync.sh: 4 KiB random write + fdatasync QD 1 through two s3block builds (AB_OLD, AB_NEW)
# and fio on a file on the same virtio disk (the reference), in alternating rounds.
set -u
. "$S3BLOCK_REPO/tests/vm/guest-lib.sh"
ROUNDS=${AB_ROUNDS:-3}
# AB_STORE: where the embedded store keeps its objects (default: on the state disk, competing with the journal;
# /dev/shm/store: in RAM, like RadosGW on tmpfs in bench/peer.sh).
STORE_SET=(); [ -n "${AB_STORE:-}" ] && STORE_SET=(--set "Store:Local:Path=$AB_STORE")
RUNTIME=${AB_RUNTIME:-20}
modprobe virtio_blk 2>/dev/null; sleep 1
mkfs.ext4 -q -F /dev/vda && mkdir -p /mnt/state && mount /dev/vda /mnt/state && cd /mnt/state || exit 1
echo "state on $(df --output=source . | tail -1)"
summ() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["jobs"][0]; w=j["write"]; s=j.get("sync",{}).get("lat_ns",{}).get("percentile",{}); print("iops", round(w["iops"]), "min", w.get("iops_min"), "p50sync_us", int(s.get("50.000000",0))//1000, "p99sync_us", int(s.get("99.000000",0))//1000)' "$1"; }
for round in $(seq 1 "$ROUNDS"); do
  rm -f ./ref.img
  fio --name=ref --filename=./ref.img --rw=randwrite --bs=4k --iodepth=1 --fdatasync=1 --size=64M --time_based --runtime="$RUNTIME" \
    --output-format=json --output=/tmp/ref.json >/dev/null 2>&1
  echo "round $round ref $(summ /tmp/ref.json)"
  rm -f ./ref.img
  for which in old new; do
    if [ "$which" = old ]; then S3=$AB_OLD; else S3=$AB_NEW; fi
    rm -rf ./data "${AB_STORE:-./data}"
    "$S3" create v --size 1GiB --chunk-size 4MiB "${STORE_SET[@]}" >/dev/null || exit 1
    start_daemon d-$which run v "${STORE_SET[@]}" >/dev/null || { cat /tmp/d-$which.err; exit 1; }
    fio --name=warm --eta=never --filename="$DEV" --rw=randwrite --bs=4k --iodepth=1 --fdatasync=1 --size=64M --time_based --runtime=5 --output=/dev/null
    fio --name=m --eta=never --filename="$DEV" --rw=randwrite --bs=4k --iodepth=1 --fdatasync=1 --size=64M --time_based --runtime="$RUNTIME" \
      --output-format=json --output=/tmp/m.json >/dev/null 2>&1
    echo "round $round $which $(summ /tmp/m.json) spares $(ls data/state/v/journal/ 2>/dev/null | grep -c spare)"
    kill -TERM "$R"; wait "$R"
  done
done
