#!/usr/bin/env bash
# A/B of settings on issue 12's point 3, a cold read's latency while the uploader drains a backlog: one s3block build,
# several variants of its settings, in ONE boot of the test VM, rounds alternating the variants. The volume lives in
# RadosGW on the guest's loopback (data on tmpfs), its state on a virtio disk (cache=none, ext4). Each variant-round
# restarts the daemon with its cache deleted, times LAT_READS cold 4 KiB reads (one per chunk, one at a time) on the
# idle volume, writes BACKLOG_MIB (1 MiB, QD 8) and times LAT_READS more cold reads while it drains; then it discards
# the backlog and waits until all is in S3, so that every variant-round starts alike.
#
#   bench/ab-lat.sh BINARY 'NAME=K=V,K=V;NAME=...' [ROUNDS (3)] [BACKLOG_MIB (384)]
#   e.g. bench/ab-lat.sh artifacts/publish/s3block 'up8=Volume:MaxUploadsInFlight=8;up2=Volume:MaxUploadsInFlight=2'
#   A key bin:PATH runs that variant with another build (BINARY creates the volume).
#
# Needs RadosGW installed (sudo tests/localstack/radosgw.sh install). Hold the machine's VM lock:
# flock /tmp/s3block-vm.lock bench/ab-lat.sh ...
# Prints per variant-round: idle and backlog p50/p99 (ms), their p50 ratio, and MiB not in S3 before/after the reads.
set -euo pipefail
. "$(dirname "$0")/ab-host-lib.sh"
binary=${1:?s3block binary} variants=${2:?variants} rounds=${3:-3} backlog_mib=${4:-384}
count=$(tr ';' '\n' <<<"$variants" | wc -l)
ab_boot lat 6G $((900 + rounds * count * 360)) "$binary" "$variants" "$rounds" "$backlog_mib"
