#!/usr/bin/env bash
# The README's main command: serve a real block device from the embedded local object store (no cloud account).
#
#   scripts/demo.sh          # build, then serve on this host if its kernel has ublk, else show it in the VM
#   scripts/demo.sh --vm     # the VM demo even if this host has ublk
#
# Host mode (root, and /dev/ublk-control exists or `modprobe ublk_drv` works): creates the 1 GiB volume "demo" in a
# scratch folder ($DEMO_DIR, default a new /tmp/s3block-demo.*; data under ./data there) and runs `s3block run demo`
# in the foreground: /dev/ublkbN is served until Ctrl+C, which (once it is unmounted) uploads everything and
# deletes the device.
# VM mode (no ublk here, e.g. the development and CI machines): tests/vm/setup.sh (idempotent; installs qemu and
# Debian's 6.12 kernel, needs root the first time), then one boot of that kernel under qemu running the same daemon:
# create, run, mkfs.ext4, mount, write files, status, unmount, SIGTERM. Takes a few minutes under software emulation.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

force_vm=0
case "${1:-}" in
  "") ;;
  --vm) force_vm=1 ;;
  -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "demo.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac

log() { printf '\n== %s\n' "$*"; }

# Can this host serve a ublk device itself?
host_has_ublk() {
  [ "$(id -u)" -eq 0 ] || return 1
  [ -e /dev/ublk-control ] && return 0
  modprobe ublk_drv 2>/dev/null && [ -e /dev/ublk-control ]
}

log "building src/Ublk.Host (Release)"
dotnet build "$repo/src/Ublk.Host" -c Release -nologo -v quiet
s3block="$repo/src/Ublk.Host/bin/Release/net10.0/s3block"

if [ "$force_vm" -eq 0 ] && host_has_ublk; then
  log "mode: host (this kernel has ublk): serving /dev/ublkbN here"
  dir=${DEMO_DIR:-$(mktemp -d /tmp/s3block-demo.XXXXXX)}
  mkdir -p "$dir" && cd "$dir"
  echo "working folder: $dir (the store is ./data/store, the journal and cache ./data/state)"
  if ! "$s3block" status demo >/dev/null 2>&1; then
    "$s3block" create demo --size 1GiB
  fi
  echo "serving until Ctrl+C; in another shell: mkfs.ext4 /dev/ublkbN, mount it, and '$s3block status demo' in $dir"
  exec "$s3block" run demo --set Journal:CapacityBytes=512MiB
fi

if [ "$(id -u)" -eq 0 ] && [ "$force_vm" -eq 0 ]; then
  why="this kernel ($(uname -r)) has no ublk driver"
elif [ "$force_vm" -eq 1 ]; then
  why="--vm"
else
  why="not root, so no ublk device here"
fi
log "mode: VM ($why): the same daemon in Debian's 6.12 kernel under qemu"
log "preparing the VM (tests/vm/setup.sh; a no-op once done)"
"$repo/tests/vm/setup.sh"

# Runs as root in the guest; / is the host's, read-only, so the volume lives on the guest's /tmp (tmpfs).
guest_script=$(cat <<'GUEST'
set -euo pipefail
S3=$S3BLOCK_BIN
mkdir -p /tmp/demo /mnt/demo && cd /tmp/demo
step() { printf '\n--- %s\n' "$*"; }

step "s3block create demo --size 1GiB"
"$S3" create demo --size 1GiB

step "s3block run demo  (in the background, log in run.log)"
"$S3" run demo --set Journal:CapacityBytes=512MiB >run.log 2>&1 &
daemon=$!
for _ in $(seq 1 900); do
  grep -q '^ready' run.log && break
  kill -0 "$daemon" 2>/dev/null || { echo "the daemon exited:"; cat run.log; exit 1; }
  sleep 0.2
done
grep '^ready' run.log || { echo "never ready:"; cat run.log; exit 1; }
dev=$(sed -n 's/^ready: serving volume demo on \(\/dev\/ublkb[0-9]*\).*/\1/p' run.log)

step "mkfs.ext4 $dev; mount $dev /mnt/demo; write a few files"
mkfs.ext4 -q -F "$dev"
mount "$dev" /mnt/demo
echo "hello from a block device whose data lives in an object store" >/mnt/demo/hello.txt
head -c 8M /dev/urandom >/mnt/demo/random.bin
cp -r /etc/apt /mnt/demo/etc-apt
sync
(cd /mnt/demo && md5sum hello.txt random.bin)
df -h /mnt/demo | tail -1

step "s3block list"
"$S3" list

step "s3block status demo"
"$S3" status demo

step "umount; kill -TERM the daemon (it uploads everything, then stops and deletes the device)"
umount /mnt/demo
rc=0
kill -TERM "$daemon"
wait "$daemon" || rc=$?
grep -E '^(ready|stopped):' run.log
echo "daemon exit code: $rc"
echo "devices left: $(find /dev -maxdepth 1 -name 'ublkb*' | wc -l)"
echo "objects in the store (./data/store): $(find data/store -type f | wc -l), $(du -sh data/store | cut -f1)"

step "result"
if [ "$rc" -eq 0 ] && grep -q '^stopped: volume demo is in S3' run.log; then
  echo "demo OK: served /dev/ublkbN from the local object store, wrote a filesystem, stopped cleanly"
else
  echo "demo FAILED (daemon exit code $rc); its log:"; cat run.log; exit 1
fi
GUEST
)

log "booting the VM (a few minutes under software emulation)"
start=$SECONDS
cd "$repo"
status=0
tests/vm/run.sh --timeout 900 --env "S3BLOCK_BIN=$s3block" -- bash -c "$guest_script" || status=$?
log "VM demo finished with status $status in $((SECONDS - start)) s"
exit "$status"
