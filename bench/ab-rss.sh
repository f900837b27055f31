#!/usr/bin/env bash
# A/B of settings on the peak RSS row of bench/peer.sh, and where the daemon's memory is: one s3block build, several
# variants of its settings, in ONE boot of the test VM, rounds alternating the variants. Each variant serves a fresh
# volume (4 MiB chunks) in RadosGW on the guest's loopback, its state on a virtio disk (cache=none, ext4), through the
# peer benchmark's S3Block workloads: SIZE written (1 MiB, QD 8) until all in S3, warm 4 KiB random reads (QD 32),
# a warm sequential read, SIZE written again + fsync. The daemon's RSS is sampled every 0.5 s.
#
#   bench/ab-rss.sh BINARY 'NAME=K=V,K=V;NAME=...' [ROUNDS (2)] [SIZE_MIB (512)]
#   e.g. bench/ab-rss.sh s3block 'now=;small-tags=Device:QueueDepth=64,Device:MaxIoBytes=524288'
#   A key env:NAME sets an environment variable of the daemon instead (env:DOTNET_GCgen0size=0x1000000); a key
#   bin:PATH runs another s3block build for that variant (two builds in one boot; PATH outside /tmp).
#
# Needs RadosGW installed (sudo tests/localstack/radosgw.sh install). Hold the machine's VM lock:
# flock /tmp/s3block-vm.lock bench/ab-rss.sh ...
# Prints per variant: peak RSS, RSS after each step, the GC heap, and at the end the RSS split by mapping: the GC's
# regions, other anonymous memory (native buffers such as the tag buffers), mapped files.
set -euo pipefail
. "$(dirname "$0")/ab-host-lib.sh"
binary=${1:?s3block binary} variants=${2:?variants} rounds=${3:-2} size_mib=${4:-512}
ab_boot rss 8G $((900 + rounds * size_mib * 4)) "$binary" "$variants" "$rounds" "$size_mib"
