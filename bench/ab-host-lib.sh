# Host side shared by bench/ab-*.sh (sourced after set -euo pipefail): boots the test VM once with a fresh sparse state
# disk and runs a guest script with the A/B's arguments in its environment (AB_BINARY, AB_VARIANTS, AB_ROUNDS,
# AB_SIZE_MIB, S3BLOCK_REPO).
ab_boot() { # NAME DISK_SIZE TIMEOUT_S BINARY VARIANTS ROUNDS SIZE_MIB
  local repo disk
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  "$repo/tests/vm/run.sh" --check >/dev/null || { echo "the VM is not set up: tests/vm/setup.sh" >&2; exit 2; }
  mkdir -p "$repo/artifacts/vm-disks"
  disk="$repo/artifacts/vm-disks/ab-$1-$$.img"
  truncate -s "$2" "$disk"
  trap "rm -f '$disk'" EXIT # expanded now: disk is local
  "$repo/tests/vm/run.sh" --disk "$disk" --mem 8192 --timeout "$3" \
    --env "AB_BINARY=$(realpath "$4")" --env "AB_VARIANTS=$5" --env "AB_ROUNDS=$6" --env "AB_SIZE_MIB=$7" \
    --env "S3BLOCK_REPO=$repo" -- bash "$repo/bench/ab-$1-guest.sh"
}
