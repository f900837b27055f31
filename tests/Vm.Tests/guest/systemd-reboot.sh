#!/bin/bash
# The second boot of SystemdUnitTests: the same machine as tests/Vm.Tests/guest/systemd-unit.sh left it (run.sh
# --state-disk keeps the guest's root: /etc, /var/lib/s3block with the daemon's journal and the embedded store, the
# persistent systemd journal), powered off with `systemctl poweroff` while the filesystem was mounted. Nothing is started
# here: the unit (enabled) and the fstab mount must come up by themselves at boot. Prints "### name" sections.
set -u
. "$S3BLOCK_REPO/tests/vm/guest-lib.sh"
U=s3block@vol1
MNT=/srv/vol1

section reboot-boot
[ -e /root/reboot.md5 ] && echo "second boot: the first boot's root is here"
# Waits for the boot transaction (which holds the unit and, through remote-fs.target, the fstab mount) to finish.
echo "system: $(timeout 300 systemctl is-system-running --wait)"
echo "unit: $(systemctl is-enabled "$U") $(systemctl is-active "$U") restarts=$(systemctl show -p NRestarts --value "$U")"
systemctl show -p StatusText --value "$U"
echo "mount unit: $(systemctl is-active srv-vol1.mount)"
findmnt -n -o SOURCE,TARGET,FSTYPE "$MNT"
dev=$(findmnt -n -o SOURCE "$MNT")
[ -n "$dev" ] && [ "$(readlink -f /dev/s3block/vol1)" = "$dev" ] && echo "/dev/s3block/vol1 -> $dev"
# What started them: systemd at boot, before or while this script ran, never this script.
journalctl -b -o cat -u "$U" | grep -m1 'Serving volume vol1'
journalctl -b -o short-monotonic -u "$U" -u srv-vol1.mount -u 'systemd-fsck@*' | grep -E 'Start|Mount|Serving|clean|fsck' | head -20

section reboot-fsck
# systemd-fsck@ (the fstab line's pass number 2) checked the filesystem before mounting it, and the kernel mounted it
# without replaying its journal: the filesystem was cleanly unmounted at the last poweroff.
journalctl -b -o cat -u 'systemd-fsck@dev-s3block-vol1.service' | grep -E 'clean|recover|error' | head -5
dmesg | grep -E 'EXT4-fs \(ublkb' | head -5
echo "journal recoveries: $(dmesg | grep -E 'EXT4-fs \(ublkb' | grep -ciE 'recover|orphan|error')"

section reboot-data
# Every file of the filesystem as the first boot left it, the unsynced ones written just before its poweroff included.
if [ "$(sums "$MNT")" = "$(cat /root/reboot.md5)" ]; then
  echo "all files same ($(wc -l </root/reboot.md5))"
else
  echo "files differ"; diff <(sums "$MNT") /root/reboot.md5 | head -10
fi
(cd "$MNT" && md5sum --quiet -c /root/synced.md5) && echo "fsynced files same ($(wc -l </root/synced.md5))"

section reboot-last-poweroff
# The previous boot's poweroff, from the persistent journal: the mount is stopped first, then the daemon, which uploads
# everything and deletes its device.
journalctl -b -1 -o short-monotonic --since "@$(cat /root/poweroff-since)" -u "$U" -u srv-vol1.mount \
  | grep -E 'Unmounting|Unmounted|Stopping|Stopped|everything is in S3|Deactivated'

section reboot-fsck-after
systemctl stop srv-vol1.mount; echo "umount rc=$?"
fsck.ext4 -fn /dev/s3block/vol1 >/dev/null 2>&1; echo "fsck rc=$?"

section reboot-kernel-log
echo "kernel errors: $(dmesg | grep -ciE 'I/O error|blk_update_request|Buffer I/O|EXT4-fs error|blocked for more than')"
section reboot-end
