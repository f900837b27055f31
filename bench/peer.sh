#!/usr/bin/env bash
# Measures S3Block's real path (S3 volume on RadosGW: journal + cache + uploader, state on a virtio disk) against
# s3backer (FUSE + loop), raw S3 (rclone), the local disk (fio) and the kernel loop device over tmpfs, in ONE boot
# of the test VM, and writes a markdown report with medians of interleaved rounds and the ratios (issue 12).
# What runs in the guest, and how, is described at the top of bench/peer-guest.sh and in bench/README.md.
#
#   bench/peer.sh [--smoke] [--size SIZE] [--rounds N] [--runtime S] [--backlog SIZE] [--lat-reads N]
#                 [--amp-bytes SIZE] [--amp-span SIZE] [--amp-chunks "SIZE..."] [--cache SIZE] [--ram-cache SIZE]
#                 [--journal SIZE] [--mem MiB] [--timeout S] [--seed N] [--out FILE]
#
#   (full)   SIZE 256MiB, 3 rounds, 20 s time-based jobs, backlog 512MiB, 24 latency reads per phase,
#            4 KiB random writes: 4MiB over 1GiB, chunk sizes "256KiB 1MiB 4MiB"; report in bench/results/
#   --smoke  SIZE 32MiB, 1 round, 4 s jobs, backlog 64MiB, 3 latency reads, 1MiB over 64MiB, "1MiB 4MiB";
#            about 9 min; the report goes to .cache/peer/ and says SMOKE: not a result
#   The other options override --smoke's values. SIZE and BACKLOG must be multiples of 4MiB.
#
# Needs: root, tests/vm/setup.sh, the daemon as it ships (dotnet publish -c Release src/Ublk.Host -o artifacts/publish;
# S3BLOCK_BIN overrides).
# Runs bench/install.sh (s3backer, rclone, fuse3) and tests/localstack/radosgw.sh install (no-ops once installed).
# Hold the machine's VM lock:
#   flock /tmp/s3block-vm.lock bench/peer.sh --smoke
# Absolute numbers under qemu's software emulation mean little, and a loaded host skews them: compare the ratios,
# and take results only from a quiet machine (the report records the load average before and after).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

to_bytes() { # 256MiB, 4KiB, 1GiB, 123 -> bytes
  local v=$1
  case $v in
    *GiB) echo $((${v%GiB} << 30)) ;; *MiB) echo $((${v%MiB} << 20)) ;; *KiB) echo $((${v%KiB} << 10)) ;;
    *[!0-9]*|'') echo "bad size: $v (use e.g. 256MiB)" >&2; exit 2 ;; *) echo "$v" ;;
  esac
}

smoke=0
size=256MiB rounds=3 runtime=20 backlog=512MiB lat_reads=24 amp_bytes=4MiB amp_span=1GiB amp_chunks="256KiB 1MiB 4MiB"
cache=1GiB ram_cache=256MiB journal=2GiB mem=8192 timeout=10800 seed=12 out=""
args=("$@")
for a in "${args[@]}"; do
  if [ "$a" = --smoke ]; then
    smoke=1 size=32MiB rounds=1 runtime=4 backlog=64MiB lat_reads=3 amp_bytes=1MiB amp_span=64MiB amp_chunks="1MiB 4MiB"
    timeout=2400
  fi
done
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) ;;
    --size) size=$2; shift ;; --rounds) rounds=$2; shift ;; --runtime) runtime=$2; shift ;;
    --backlog) backlog=$2; shift ;; --lat-reads) lat_reads=$2; shift ;;
    --amp-bytes) amp_bytes=$2; shift ;; --amp-span) amp_span=$2; shift ;; --amp-chunks) amp_chunks=$2; shift ;;
    --cache) cache=$2; shift ;; --ram-cache) ram_cache=$2; shift ;; --journal) journal=$2; shift ;;
    --mem) mem=$2; shift ;; --timeout) timeout=$2; shift ;; --seed) seed=$2; shift ;; --out) out=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

size_b=$(to_bytes "$size") backlog_b=$(to_bytes "$backlog") cache_b=$(to_bytes "$cache")
chunk_b=$((4 << 20))
[ $((size_b % chunk_b)) = 0 ] && [ "$size_b" -gt 0 ] || { echo "--size must be a multiple of 4MiB" >&2; exit 2; }
[ $((backlog_b % chunk_b)) = 0 ] && [ "$backlog_b" -gt 0 ] || { echo "--backlog must be a multiple of 4MiB" >&2; exit 2; }
[ $((2 * lat_reads)) -le $((size_b / chunk_b)) ] ||
  { echo "--lat-reads $lat_reads: two phases need $((2 * lat_reads)) chunks, SIZE has $((size_b / chunk_b))" >&2; exit 2; }
[ "$cache_b" -ge $((2 * size_b + backlog_b)) ] ||
  echo "warning: --cache $cache is smaller than what the rounds write (2 x SIZE + BACKLOG): warm reads may miss" >&2

binary=${S3BLOCK_BIN:-$repo/artifacts/publish/s3block}
[ -x "$binary" ] || { echo "no s3block binary at $binary: dotnet publish -c Release src/Ublk.Host -o artifacts/publish" >&2; exit 2; }
# The tools the guest runs are the host's: install them (both no-ops once done; root, like the VM itself).
bench/install.sh
tests/localstack/radosgw.sh install >&2
for tool in s3backer rclone fio radosgw; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: bench/install.sh, tests/localstack/radosgw.sh install" >&2; exit 2; }
done
tests/vm/run.sh --check >/dev/null || { echo "the VM is not set up: tests/vm/setup.sh" >&2; exit 2; }

stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw="$repo/.cache/peer/$stamp"
mkdir -p "$raw" "$repo/artifacts/vm-disks"
# The state disk: journal, both disk caches, the local-disk reference files, ext4's own room. Sparse: only what is
# written takes space on the host's disk. A real filesystem (qemu opens it with O_DIRECT), deleted afterwards.
disk="$repo/artifacts/vm-disks/peer-$$.img"
disk_b=$(($(to_bytes "$journal") + 2 * cache_b + size_b + (64 << 20) + (1 << 30)))
truncate -s "$disk_b" "$disk"
trap 'rm -f "$disk"' EXIT

# Facts about the run, read by the report.
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit=$(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD -- src bench tests/vm 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "smoke=$smoke"
  echo "host_cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "host_cores=$(nproc)"
  echo "host_mem_gib=$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)"
  echo "host_kernel=$(uname -r)"
  echo "qemu=$(qemu-system-x86_64 --version | head -1)"
  echo "vm=TCG (software emulation), 2 vCPUs, $mem MiB"
  echo "versions=s3backer $(dpkg-query -W -f '${Version}' s3backer), rclone $(dpkg-query -W -f '${Version}' rclone), $(fio --version), radosgw $(dpkg-query -W -f '${Version}' radosgw)"
  echo "binary=${binary#"$repo"/}"
  echo "params=size=$size rounds=$rounds runtime=${runtime}s backlog=$backlog lat_reads=$lat_reads amp=$amp_bytes over $amp_span chunks [$amp_chunks] disk_cache=$cache ram_cache=$ram_cache journal=$journal seed=$seed"
  echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$raw/run.txt"

echo "bench/peer.sh: raw output in ${raw#"$repo"/}; $( [ $smoke = 1 ] && echo "SMOKE run" || echo "full run: $rounds rounds of $size")" >&2
started=$SECONDS
rc=0
tests/vm/run.sh --share "$raw" --disk "$disk" --mem "$mem" --timeout "$timeout" \
  --env "S3BLOCK_BIN=$binary" --env "S3BLOCK_REPO=$repo" --env "SIZE=$size_b" --env "ROUNDS=$rounds" \
  --env "RUNTIME=$runtime" --env "BACKLOG=$backlog_b" --env "LAT_READS=$lat_reads" \
  --env "AMP_BYTES=$(to_bytes "$amp_bytes")" --env "AMP_SPAN=$(to_bytes "$amp_span")" --env "AMP_CHUNKS=$amp_chunks" \
  --env "CACHE_BYTES=$cache_b" --env "RAM_CACHE_BYTES=$(to_bytes "$ram_cache")" --env "JOURNAL_BYTES=$(to_bytes "$journal")" \
  --env "SEED=$seed" \
  -- bash "$repo/bench/peer-guest.sh" || rc=$?
{ echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)"; echo "vm_seconds=$((SECONDS - started))"; echo "vm_exit=$rc"; } >>"$raw/run.txt"
[ "$rc" = 0 ] || echo "bench/peer.sh: the guest script exited with $rc; the report shows what was measured" >&2

if [ -z "$out" ]; then
  if [ $smoke = 1 ]; then out="$repo/.cache/peer/smoke-$stamp.md"; else out="$repo/bench/results/peer-$stamp.md"; fi
fi
mkdir -p "$(dirname "$out")"
python3 "$repo/bench/peer-report.py" "$raw" >"$out"
cat "$out"
echo "bench/peer.sh: report in ${out#"$repo"/} (VM run: $((SECONDS - started)) s)" >&2
exit "$rc"
