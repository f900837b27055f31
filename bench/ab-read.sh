#!/usr/bin/env bash
# A/B of settings on the cold sequential read row of bench/peer.sh: one s3block build, several variants of its
# settings, in ONE boot of the test VM, rounds alternating the variants, each round also timing rclone GET of the same
# chunk objects (8 transfers: the reference). The volume lives in RadosGW on the guest's loopback (data on tmpfs),
# its state on a virtio disk (cache=none, ext4); before every read the daemon is restarted with its cache deleted and
# the page cache dropped.
#
#   bench/ab-read.sh BINARY 'NAME=K=V,K=V;NAME=...' [ROUNDS (3)] [SIZE_MIB (256)]
#   e.g. bench/ab-read.sh src/Ublk.Host/bin/Release/net10.0/s3block 'off=Volume:ReadAheadChunks=0;on=Volume:ReadAheadChunks=4'
#
# Needs RadosGW installed (sudo tests/localstack/radosgw.sh install) and rclone (sudo bench/install.sh).
# Hold the machine's VM lock: flock /tmp/s3block-vm.lock bench/ab-read.sh ...
# Prints one line per read: MB/s, and the chunks the read waited for and the chunks read ahead (daemon metrics).
set -euo pipefail
. "$(dirname "$0")/ab-host-lib.sh"
binary=${1:?s3block binary} variants=${2:?variants} rounds=${3:-3} size_mib=${4:-256}
ab_boot read 4G $((900 + rounds * size_mib * 2)) "$binary" "$variants" "$rounds" "$size_mib"
