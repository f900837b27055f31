# The systemd part of DeviceInUseTests (sourced by device-in-use.sh when systemd is PID 1): the shipped unit with
# Daemon:RecoveryDeadline=10 s. A crash that Restart= recovers keeps the device past the deadline and leaves one guard;
# a crash that is not restarted (a drop-in with Restart=no, as after start-limit-hit) fails the I/O after the deadline,
# done by the guard that KillMode=process let outlive the daemon, with no process left in D state.
U=s3block@vsd
main_pid() { timeout 20 systemctl show -p MainPID --value "$U"; }
guards() { pgrep -f 'guard --volume vsd ' | wc -l; }

section systemd-start
install -d /usr/lib/s3block && cp -a "$(dirname "$S3BLOCK_BIN")"/. /usr/lib/s3block/
install -D -m 0644 "$S3BLOCK_REPO/deploy/systemd/s3block@.service" /etc/systemd/system/s3block@.service
mkdir -p /etc/s3block /tmp/sd
cat >/etc/s3block/vsd.json <<'JSON'
{
  "Store": { "Kind": "local", "Local": { "Path": "/var/lib/s3block/vsd/store" } },
  "Volume": { "CommitInterval": "00:00:01" },
  "Journal": { "CapacityBytes": "512MiB" },
  "Daemon": { "RecoveryDeadline": "00:00:10" },
  "Metrics": { "Enabled": false }
}
JSON
/usr/lib/s3block/s3block create vsd --size 256MiB --chunk-size 1MiB --config /etc/s3block/vsd.json >/dev/null; echo "create rc=$?"
systemctl daemon-reload
systemctl start "$U"; echo "start rc=$?"
SDEV=$(systemctl show -p StatusText --value "$U" | grep -o '/dev/ublkb[0-9]*')
echo "unit $(systemctl is-active "$U") on $SDEV"
mkfs.ext4 -q "$SDEV" && mount "$SDEV" /tmp/sd && dd if=/dev/urandom of=/tmp/sd/kept bs=64k count=16 conv=fsync status=none
md5sum /tmp/sd/kept >/tmp/sd-kept.md5
sleep 3
echo "guards=$(guards)"

section systemd-restart
pid=$(main_pid); kill -9 "$pid"
for _ in $(seq 1 300); do
  new=$(main_pid); [ "$(systemctl is-active "$U")" = active ] && [ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$pid" ] && break
  sleep 0.2
done
echo "unit $(systemctl is-active "$U") with a new pid: $([ "$new" != "$pid" ] && echo yes || echo no)"
journalctl -u "$U" -o cat | grep -o 'serving volume vsd on /dev/ublkb[0-9]* (recovered' | tail -1
sleep 15
echo "15 s later: device=$([ -b "$SDEV" ] && echo kept || echo gone) guards=$(guards)"
md5sum -c --quiet /tmp/sd-kept.md5 && echo "fsynced file same"
echo late >/tmp/sd/late && sync && echo "fs writable"

section systemd-deadline
mkdir -p "/etc/systemd/system/$U.service.d"
printf '[Service]\nRestart=no\n' >"/etc/systemd/system/$U.service.d/no-restart.conf"
systemctl daemon-reload
pid=$(main_pid); kill -9 "$pid"
T0=$(date +%s)
sleep 1
dd if="$SDEV" of=/dev/null bs=4k count=1 skip=100 iflag=direct status=none 2>/dev/null & RD=$!
sleep 5
echo "after the crash: unit $(systemctl is-active "$U"), read waiting=$(kill -0 $RD 2>/dev/null && echo yes || echo no), guards=$(guards)"
for _ in $(seq 1 120); do kill -0 $RD 2>/dev/null || break; sleep 1; done
kill -0 $RD 2>/dev/null && echo "read still waiting after 120 s"
wait $RD; echo "read rc=$?"
[ $(($(date +%s) - T0)) -ge 10 ] && echo "failed no earlier than the deadline"
[ -b "$SDEV" ] || echo "device gone"
journalctl -u "$U" -o cat | grep '^s3block guard:'
umount /tmp/sd; echo "umount rc=$?"
echo "D-state processes=$(ps -eo stat= | grep -c '^D')"
rm -r "/etc/systemd/system/$U.service.d" && systemctl daemon-reload
systemctl reset-failed "$U"
systemctl start "$U"; echo "start again rc=$?"
SDEV=$(systemctl show -p StatusText --value "$U" | grep -o '/dev/ublkb[0-9]*')
mount "$SDEV" /tmp/sd && md5sum -c --quiet /tmp/sd-kept.md5 && echo "fsynced file kept"
umount /tmp/sd
systemctl stop "$U"; echo "stop rc=$?"
