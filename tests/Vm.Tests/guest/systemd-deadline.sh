# The systemd part of DeviceInUseTests (sourced by device-in-use.sh when systemd is PID 1): the shipped unit with
# Daemon:RecoveryDeadline=60 s (a restart under TCG takes 10-20 s) serving a disk with an MBR partition table, ext4 mounted on p1 and on a device-mapper
# linear target on p2.
# - A crash that Restart= recovers keeps the device, with one guard (the new daemon's, which ended the old one); the new
#   daemon detaches its namespace's copies of both mounts.
# - `systemctl stop` with both mounted leaves the device attached, names both users (PID 1's mounts are visible to the
#   unit) and fails the unit (exit code 3); the next start recovers the device.
# - Unmounted on the host, a stop of the daemon that started while they were mounted ends cleanly, with no D state.
# - A crash that is not restarted (a drop-in with Restart=no, as after start-limit-hit, and a 15 s deadline) fails the I/O
#   after the deadline,
#   done by the guard that KillMode=process let outlive the daemon, with no process left in D state.
U=s3block@vsd
main_pid() { timeout 20 systemctl show -p MainPID --value "$U"; }
guards() { pgrep -f 'guard --volume vsd ' | wc -l; }
guard_pid() { pgrep -f 'guard --volume vsd ' | head -1; }
unit_device() { systemctl show -p StatusText --value "$U" | grep -o '/dev/ublkb[0-9]*'; }
wait_partitions() { for _ in $(seq 1 50); do [ -b "${1}p2" ] && return 0; sleep 0.1; done; return 1; }

section systemd-start
install -d /usr/lib/s3block && cp -a "$(dirname "$S3BLOCK_BIN")"/. /usr/lib/s3block/
install -D -m 0644 "$S3BLOCK_REPO/deploy/systemd/s3block@.service" /etc/systemd/system/s3block@.service
mkdir -p /etc/s3block /srv/sd /srv/sdlv
cat >/etc/s3block/vsd.json <<'JSON'
{
  "Store": { "Kind": "local", "Local": { "Path": "/var/lib/s3block/vsd/store" } },
  "Volume": { "CommitInterval": "00:00:01" },
  "Journal": { "CapacityBytes": "512MiB" },
  "Daemon": { "RecoveryDeadline": "00:01:00" },
  "Metrics": { "Enabled": false }
}
JSON
/usr/lib/s3block/s3block create vsd --size 256MiB --chunk-size 1MiB --config /etc/s3block/vsd.json >/dev/null; echo "create rc=$?"
systemctl daemon-reload
systemctl start "$U"; echo "start rc=$?"
SDEV=$(unit_device)
echo "unit $(systemctl is-active "$U") on $SDEV"
write_mbr "$SDEV" 1:100:83 101:100:83 && blockdev --rereadpt "$SDEV" && wait_partitions "$SDEV" && echo "partitions ${SDEV}p1 ${SDEV}p2"
mkfs.ext4 -q "${SDEV}p1" && mount "${SDEV}p1" /srv/sd && dd if=/dev/urandom of=/srv/sd/kept bs=64k count=16 conv=fsync status=none
md5sum /srv/sd/kept >/tmp/sd-kept.md5
dmsetup create s3b-sd --table "0 $(blockdev --getsz "${SDEV}p2") linear ${SDEV}p2 0" && dmsetup mknodes s3b-sd \
  && mkfs.ext4 -q /dev/mapper/s3b-sd && mount /dev/mapper/s3b-sd /srv/sdlv && make_tree /srv/sdlv/tree && sync \
  && sums /srv/sdlv >/tmp/sdlv.md5 && echo "dm target mounted, lv files=$(wc -l </tmp/sdlv.md5)"
sleep 3
G1=$(guard_pid)
echo "guards=$(guards)"

section systemd-restart
pid=$(main_pid); kill -9 "$pid"
for _ in $(seq 1 300); do
  new=$(main_pid); [ "$(systemctl is-active "$U")" = active ] && [ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$pid" ] && break
  sleep 0.2
done
echo "unit $(systemctl is-active "$U") with a new pid: $([ "$new" != "$pid" ] && echo yes || echo no)"
journalctl -u "$U" -o cat | grep -o 'serving volume vsd on /dev/ublkb[0-9]* (recovered' | tail -1
for _ in $(seq 1 50); do journalctl -u "$U" -o cat | grep -q "Detached this daemon's own copies" && break; sleep 0.2; done
journalctl -u "$U" -o cat | grep -o "Detached this daemon's own copies of the mounts of .*" | tail -1
echo "mounts of the device left in the daemon's namespace: $(nsenter -t "$new" -m cat /proc/self/mountinfo | grep -c -E ' /srv/sd(lv)? ')"
for _ in $(seq 1 300); do [ "$(guards)" = 1 ] && [ "$(guard_pid)" != "$G1" ] && break; sleep 0.2; done
echo "device=$([ -b "$SDEV" ] && echo kept || echo gone) guards=$(guards) guard=$([ "$(guard_pid)" = "$G1" ] && echo same || echo replaced)"
md5sum -c --quiet /tmp/sd-kept.md5 && echo "fsynced file same"
sums /srv/sdlv | cmp -s /tmp/sdlv.md5 - && echo "lv tree same"
echo late >/srv/sd/late && echo late >/srv/sdlv/late && sync && echo "fs writable"

section systemd-in-use
# Stopped while both are mounted: everything goes to S3, the device stays, the unit fails (the stop did not finish).
timeout 200 systemctl stop "$U"; echo "stop rc=$?"
echo "unit $(systemctl is-active "$U"), result $(systemctl show -p Result --value "$U"), exit status $(systemctl show -p ExecMainStatus --value "$U")"
[ -b "$SDEV" ] && echo "device kept"
echo "guards after the stop=$(guards)"
systemctl start "$U"; echo "start rc=$?"
journalctl -u "$U" -o cat | grep -o 'is still in use: .*' | tail -1
journalctl -u "$U" -o cat | grep -o 'serving volume vsd on /dev/ublkb[0-9]* (recovered' | tail -1
md5sum -c --quiet /tmp/sd-kept.md5 && sums /srv/sdlv | grep -v ' ./late$' | cmp -s /tmp/sdlv.md5 - && echo "both trees same"
# The daemon names the host's mounts from PID 1's mountinfo (its own copies are detached): the unit's
# ProtectProc=invisible with its capabilities must not hide PID 1.
systemd-run --wait --quiet -p ProtectProc=invisible -p "CapabilityBoundingSet=CAP_SYS_ADMIN CAP_SYS_RESOURCE" \
  grep -c ' /srv/sdlv ' /proc/1/mountinfo >/dev/null 2>&1; echo "PID 1's mounts under the unit's ProtectProc=invisible rc=$?"

section systemd-unmounted-stop
# The daemon now running started while both filesystems were mounted; its namespace's copies are detached. Unmounted on
# the host, a stop ends cleanly: nothing syncs a filesystem through the exiting daemon.
umount /srv/sd && umount /srv/sdlv && dmsetup remove s3b-sd && echo "unmounted, dm target removed"
timeout 200 systemctl stop "$U"; echo "stop rc=$?"
echo "unit $(systemctl is-active "$U"), result $(systemctl show -p Result --value "$U")"
journalctl -u "$U" -o cat | grep -o 'Stopped volume vsd.*' | tail -1
[ -b "$SDEV" ] || echo "device deleted"
echo "guards left=$(guards)"
echo "D-state processes=$(ps -eo stat= | grep -c '^D')"

section systemd-deadline
mkdir -p "/etc/systemd/system/$U.service.d"
printf '[Service]\nRestart=no\nEnvironment=S3BLOCK_Daemon__RecoveryDeadline=00:00:15\n' >"/etc/systemd/system/$U.service.d/no-restart.conf"
systemctl daemon-reload
systemctl start "$U"; echo "start rc=$?"
SDEV=$(unit_device)
wait_partitions "$SDEV" && mount "${SDEV}p1" /srv/sd && md5sum -c --quiet /tmp/sd-kept.md5 && echo "fsynced file kept after the stop"
pid=$(main_pid); kill -9 "$pid"
T0=$(date +%s)
sleep 1
dd if="$SDEV" of=/dev/null bs=4k count=1 skip=100 iflag=direct status=none 2>/dev/null & RD=$!
sleep 5
echo "after the crash: unit $(systemctl is-active "$U"), read waiting=$(kill -0 $RD 2>/dev/null && echo yes || echo no), guards=$(guards)"
for _ in $(seq 1 120); do kill -0 $RD 2>/dev/null || break; sleep 1; done
kill -0 $RD 2>/dev/null && echo "read still waiting after 120 s"
wait $RD; echo "read rc=$?"
[ $(($(date +%s) - T0)) -ge 15 ] && echo "failed no earlier than the deadline"
[ -b "$SDEV" ] || echo "device gone"
journalctl -u "$U" -o cat | grep '^s3block guard:' | tail -4
umount /srv/sd; echo "umount rc=$?"
echo "D-state processes=$(ps -eo stat= | grep -c '^D')"
rm -r "/etc/systemd/system/$U.service.d" && systemctl daemon-reload
systemctl reset-failed "$U"
systemctl start "$U"; echo "start again rc=$?"
SDEV=$(unit_device)
wait_partitions "$SDEV" && mount "${SDEV}p1" /srv/sd && md5sum -c --quiet /tmp/sd-kept.md5 && echo "fsynced file kept"
umount /srv/sd
systemctl stop "$U"; echo "stop rc=$?"
