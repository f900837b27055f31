#!/bin/bash
# The guest side of SystemdUnitTests: run under systemd as PID 1 (tests/vm/run.sh --systemd), installs s3block as
# deploy/README.md tells a user (embedded local store) and puts the unit through start, mount, crashes, a hang and
# stops. Prints "### name" sections that the C# side asserts on. Needs $S3BLOCK_BIN (the built s3block) and
# $S3BLOCK_REPO.
set -u
. "$S3BLOCK_REPO/tests/vm/guest-lib.sh"
cd "$S3BLOCK_REPO" || exit 1
U=s3block@vol1
MNT=/srv/vol1

now() { date +%s; }
# systemctl with a time limit: a test that hangs must still print what it saw.
sc() { timeout 20 systemctl "$@"; }
main_pid() { sc show -p MainPID --value "$U"; }
# kill -9 of the unit's main process (never of pid 0, which would be this script's process group).
kill_main() { # SIGNAL
  local pid
  pid=$(main_pid)
  [ -n "$pid" ] && [ "$pid" != 0 ] && kill "-$1" "$pid"
  echo "$pid"
}
# Waits (up to $2 s) until the unit is active with a main pid other than $1; prints the seconds it took.
wait_new_pid() { # OLD_PID LIMIT
  local start i pid
  start=$(now)
  for ((i = 0; i < $2 * 5; i++)); do
    pid=$(main_pid)
    if [ "$(sc is-active "$U")" = active ] && [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$1" ]; then
      echo "active again with a new pid after $(($(now) - start)) s"
      return 0
    fi
    sleep 0.2
  done
  echo "not active again after $2 s: $(sc is-active "$U") pid=$(main_pid) result=$(sc show -p Result --value "$U")"
  sc status "$U" --no-pager -n 20
  d_state
  return 1
}
# Processes stuck in uninterruptible sleep, with their kernel stacks: in D state now and still 3 s later. A process
# waiting for a disk (the guest's root is a virtio disk with run.sh --state-disk) or a daemon tearing down its device as
# it exits is in D for a moment; the deadlock of issue 13 is for good.
d_state() {
  local p first n=0
  first=$(ps -eo pid=,stat= | awk '$2 ~ /^D/ { print $1 }')
  [ -n "$first" ] && sleep 3
  for p in $first; do
    ps -o stat= -p "$p" | grep -q '^D' || continue
    echo "D state: $p $(cat /proc/$p/comm 2>/dev/null)"; cat /proc/$p/stack 2>/dev/null
    n=$((n + 1))
  done
  echo "D-state processes: $n"
}
# Writes N files of 256 KiB with fsync into the mounted filesystem and records their checksums.
write_synced() { # TAG N
  local i
  for ((i = 1; i <= $2; i++)); do
    dd if=/dev/urandom of="$MNT/$1-$i" bs=64k count=4 conv=fsync status=none || echo "write $1-$i failed"
  done
  (cd "$MNT" && md5sum "$1"-*) >>/root/synced.md5
}
check_synced() {
  if (cd "$MNT" && md5sum --quiet -c /root/synced.md5); then
    echo "fsynced files same ($(wc -l </root/synced.md5))"
  else
    echo "fsynced files differ"
  fi
}

section install
t0=$(now)
# deploy/README.md, step by step.
install -d /usr/lib/s3block && cp -a "$(dirname "$S3BLOCK_BIN")"/. /usr/lib/s3block/
install -D -m 0644 deploy/systemd/s3block@.service /etc/systemd/system/s3block@.service
install -D -m 0644 deploy/modules-load.d/ublk.conf /etc/modules-load.d/ublk.conf
install -D -m 0644 deploy/udev/60-s3block.rules /etc/udev/rules.d/60-s3block.rules
install -D -m 0755 deploy/udev/s3block-volume-name /usr/lib/udev/s3block-volume-name
udevadm control --reload
modprobe ublk_drv
# The embedded local store inside the instance's state directory (the only writable place besides cache and run).
cat >/root/vol1.json <<'JSON'
{
  "Store": { "Kind": "local", "Local": { "Path": "/var/lib/s3block/vol1/store" } },
  "Volume": { "CommitInterval": "00:00:01" },
  "Journal": { "CapacityBytes": "512MiB" },
  "Metrics": { "Enabled": false }
}
JSON
install -D -m 0600 /root/vol1.json /etc/s3block/vol1.json
/usr/lib/s3block/s3block create vol1 --size 1GiB --chunk-size 1MiB --config /etc/s3block/vol1.json; echo "create rc=$?"
systemctl daemon-reload
echo "install took $(($(now) - t0)) s"

section enable
t0=$(now)
systemctl enable --now "$U"; echo "enable rc=$?"
# The moment enable returns the unit is active and the device it names in STATUS= must already serve I/O.
state=$(systemctl is-active "$U")
dev=$(systemctl show -p StatusText --value "$U" | grep -o '/dev/ublkb[0-9]*')
if [ -n "$dev" ] && dd if="$dev" of=/dev/null bs=4k count=16 iflag=direct status=none; then
  echo "when enable returned: unit $state, $dev serves I/O"
else
  echo "when enable returned: unit $state, no I/O: $(ls -l /dev/ublkb* 2>&1)"
fi
echo "enable took $(($(now) - t0)) s"
udevadm settle
[ "$(readlink -f /dev/s3block/vol1)" = "$dev" ] && echo "/dev/s3block/vol1 -> $dev"
systemctl status "$U" --no-pager -n 0 | grep -E 'Active:|Status:'
echo "journal lines: $(journalctl -u "$U" -o cat | grep -c .)"
journalctl -u "$U" -o cat | grep -m1 'Serving volume vol1'
# Journal priorities (not one level for everything): the Information line is priority 6 (info), not a warning.
journalctl -u "$U" -p info..info -o cat | grep -q 'Serving volume vol1' && echo "Serving line at priority info"
journalctl -u "$U" -p warning -o cat | grep -q 'Serving volume vol1' || echo "Serving line not at priority warning"

section mount
mkfs.ext4 -q -F -L vol1data /dev/s3block/vol1; echo "mkfs rc=$?"
uuid=$(blkid -s UUID -o value /dev/s3block/vol1)
# udev re-reads the disk when mkfs closes it (the rule's watch): the links follow within moments.
for _ in $(seq 50); do [ -e "/dev/disk/by-uuid/$uuid" ] && [ -e /dev/disk/by-label/vol1data ] && break; sleep 0.2; done
[ "$(readlink -f "/dev/disk/by-uuid/$uuid")" = "$dev" ] && echo "by-uuid link after mkfs"
[ "$(readlink -f /dev/disk/by-label/vol1data)" = "$dev" ] && echo "by-label link after mkfs"
udevadm info -q property "$dev" | grep -E '^(ID_FS_|S3BLOCK_|DEVLINKS|TAGS|SYSTEMD)' | sort
mkdir -p "$MNT"
# The fstab line of deploy/README.md.
echo "/dev/s3block/vol1  $MNT  ext4  _netdev,nofail,x-systemd.after=s3block@vol1.service,x-systemd.device-timeout=5min  0 2" >>/etc/fstab
systemctl daemon-reload
systemctl start srv-vol1.mount; echo "mount rc=$?"
findmnt -n -o SOURCE,TARGET "$MNT"
if ! mountpoint -q "$MNT"; then
  systemctl status srv-vol1.mount dev-s3block-vol1.device --no-pager
  echo "not mounted: the rest would test nothing"
  exit 1
fi
systemctl show -p After --value srv-vol1.mount | tr ' ' '\n' | grep -x 's3block@vol1.service' >/dev/null && echo "srv-vol1.mount is ordered after $U"
make_tree "$MNT/tree" && sync && echo "tree written"
write_synced base 4
check_synced

section io-flusher
# Under the hardened unit (only CAP_SYS_ADMIN and CAP_SYS_RESOURCE, LimitMEMLOCK=infinity, no CAP_IPC_LOCK): every
# thread of the daemon has IO_FLUSHER and its tag buffers are locked.
io_flusher_report "$(main_pid)" | grep -v '^with:'
journalctl -u "$U" -o cat | grep -m1 -o 'IO_FLUSHER on .*'

section kill9
NR0=$(systemctl show -p NRestarts --value "$U")
for round in 1 2; do
  pid=$(kill_main 9)
  # Writes while the daemon is gone wait (user recovery) and complete once the new one serves.
  write_synced "k$round" 2 &
  w=$!
  wait_new_pid "$pid" 120
  wait "$w"; echo "round $round: writes during restart done"
  findmnt -n "$MNT" >/dev/null && echo "round $round: still mounted"
done
check_synced
echo "restarts: $(($(sc show -p NRestarts --value "$U") - NR0))"
journalctl -u "$U" -o cat | grep -c 'recovered: True' | sed 's/^/recovered starts in the journal: /'

section hang
write_synced hang-before 2
pid=$(kill_main STOP)
t0=$(now)
wait_new_pid "$pid" 180
echo "hung daemon replaced after $(($(now) - t0)) s"
# Where the time went (for the record, not asserted): systemd's and the daemon's lines since the hang.
journalctl -o short-monotonic -u "$U" --since "@$t0" | tail -n 25
write_synced hang-after 2
check_synced
findmnt -n "$MNT" >/dev/null && echo "still mounted"

section restart-umount-stop
# The daemon now running was started while the filesystem was mounted (by Restart=). Unmount, then stop.
systemctl stop srv-vol1.mount; echo "umount rc=$?"
timeout 200 systemctl stop "$U"; echo "stop rc=$?"
echo "unit: $(systemctl is-active "$U")"
echo "devices left: $(ls /dev/ublkb* 2>/dev/null | wc -l)"
d_state

section restart-umount-kill
systemctl start "$U"; echo "start rc=$?"
systemctl start srv-vol1.mount; echo "mount rc=$?"
check_synced
pid=$(kill_main 9); wait_new_pid "$pid" 120
pid=$(kill_main 9); wait_new_pid "$pid" 120
check_synced
systemctl stop srv-vol1.mount; echo "umount rc=$?"
pid=$(main_pid)
systemctl kill -s SIGKILL "$U"
# SIGKILL is a failure: Restart= brings a new daemon, which re-attaches the device (nothing is mounted now).
wait_new_pid "$pid" 120
d_state
timeout 200 systemctl stop "$U"; echo "stop rc=$?"
echo "unit: $(systemctl is-active "$U")"
echo "devices left: $(ls /dev/ublkb* 2>/dev/null | wc -l) $(/usr/lib/s3block/s3block list --config /etc/s3block/vol1.json 2>&1 | grep -c ublkb) listed"
d_state

section stop-backlog
# A stop timeout far below the upload time: only EXTEND_TIMEOUT_USEC keeps the daemon alive while it uploads.
mkdir -p /etc/systemd/system/$U.service.d
printf '[Service]\nTimeoutStopSec=5s\n' >/etc/systemd/system/$U.service.d/short-stop.conf
printf '{ "Volume": { "CommitInterval": "01:00:00", "CommitThresholdBytes": "4GiB" } }\n' >/etc/s3block/s3block.json
systemctl daemon-reload
systemctl start "$U"; echo "start rc=$?"
systemctl start srv-vol1.mount; echo "mount rc=$?"
dd if=/dev/urandom of="$MNT/backlog" bs=1M count=200 conv=fsync status=none; echo "backlog written"
md5sum "$MNT/backlog" | sed "s|$MNT/||" >/root/backlog.md5
systemctl stop srv-vol1.mount; echo "umount rc=$?"
t0=$(now)
systemctl stop "$U" &
s=$!
while kill -0 "$s" 2>/dev/null; do systemctl show -p StatusText --value "$U"; sleep 1; done | grep -m3 'uploading'
wait "$s"; echo "stop rc=$?"
echo "stop took $(($(now) - t0)) s (TimeoutStopSec=5s)"
echo "unit: $(systemctl is-active "$U") result: $(systemctl show -p Result --value "$U")"
journalctl -u "$U" -o cat | grep -m1 'Stopped volume vol1' 
rm -r /etc/systemd/system/$U.service.d /etc/s3block/s3block.json
systemctl daemon-reload

section after
systemctl start "$U" && systemctl start srv-vol1.mount && echo "started and mounted again"
(cd "$MNT" && md5sum -c --quiet /root/backlog.md5) && echo "backlog same"
check_synced
systemctl stop srv-vol1.mount; echo "umount rc=$?"
fsck.ext4 -fn /dev/disk/by-label/vol1data >/dev/null 2>&1; echo "fsck rc=$?"

section poweroff-setup
# The harness ends the boot with `systemctl poweroff`. A witness unit ordered before the daemon is stopped after it
# (stop order is the reverse of start order) and records, into the share, how the mount and the daemon stopped.
systemctl start srv-vol1.mount; echo "mount rc=$?"
write_synced last 2
cat >/etc/systemd/system/s3block-vm-witness.service <<UNIT
[Unit]
Description=records how $U and srv-vol1.mount stopped at poweroff
Before=$U.service
RequiresMountsFor=$S3BLOCK_VM_SHARE
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/bin/sh -c 'journalctl -o short-monotonic -u $U -u srv-vol1.mount --since @$(now) >$S3BLOCK_VM_SHARE/poweroff.log 2>&1; ls /dev/ublkb* >>$S3BLOCK_VM_SHARE/poweroff.log 2>&1'
UNIT
systemctl daemon-reload
systemctl start s3block-vm-witness.service; echo "witness rc=$?"

section kernel-log
dmesg | grep -iE 'I/O error|blk_update_request|Buffer I/O|EXT4-fs error|hung_task|blocked for more than' | head -20
echo "kernel errors: $(dmesg | grep -ciE 'I/O error|blk_update_request|Buffer I/O|EXT4-fs error|blocked for more than')"
section reboot-setup
# The harness boots this machine again from the same state disk (tests/Vm.Tests/guest/systemd-reboot.sh). Files written
# without fsync right before `systemctl poweroff`: they reach the device only if the filesystem is unmounted before the
# daemon stops. Every file's checksum is recorded for the next boot (on the state disk, like everything in /root).
for i in 1 2 3; do dd if=/dev/urandom of="$MNT/unsynced-$i" bs=64k count=8 status=none || echo "write unsynced-$i failed"; done
sums "$MNT" >/root/reboot.md5
now >/root/poweroff-since   # the next boot reads this boot's poweroff from the journal from here on
echo "files recorded for the reboot: $(wc -l </root/reboot.md5)"
echo "unit enabled: $(systemctl is-enabled "$U")"
section end
