# Guest script of DeviceInUseTests (issue 10, points 2 and 5), one boot with systemd as PID 1 and the embedded local
# store; daemons started by hand unless the section says systemd:
# - a device in use (a mounted partition of an MBR partition table, a mounted device-mapper linear target on another
#   partition, a swap area on a third) survives SIGTERM and `delete`, which name every user; the next daemon recovers
#   it and nothing is lost; once nothing uses it, SIGTERM stops and deletes it;
# - a daemon killed and not restarted: I/O waits, then fails once Daemon:RecoveryDeadline has passed, with no process
#   left in D state; a daemon that re-attaches the device within the deadline completes the waiting I/O and the guard
#   follows the device to it; a daemon stuck in its start (holding the volume's instance lock) does not stop the clock;
#   a daemon whose output is a pipe: the pipe ends with the daemon, the guard writes to guard.log.
set -u
S3="$S3BLOCK_BIN"
. "$S3BLOCK_REPO/tests/vm/guest-lib.sh"
mkdir -p /tmp/work /tmp/p1 /tmp/lv /tmp/mnt && cd /tmp/work
OPTS="--set Volume:CommitInterval=00:00:01 --set Metrics:Enabled=false"

# Little-endian 32-bit as printf escapes.
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
# One MBR partition entry: START and COUNT in logical sectors, TYPE in hex.
mbr_entry() { printf "\\x00\\x00\\x00\\x00\\x$3\\x00\\x00\\x00$(le32 "$1")$(le32 "$2")"; }
# An MBR partition table (util-linux has no partitioning tool without the fdisk package; the kernel parses this one
# like any other): one entry per START:SIZE:TYPE (MiB, MiB, hex type), in the device's logical sector size.
write_mbr() { # DEV START:SIZE:TYPE...
  local s=$((1048576 / $(blockdev --getss "$1"))) p a b t n=0
  { for p in "${@:2}"; do IFS=: read -r a b t <<<"$p"; mbr_entry $((a * s)) $((b * s)) "$t"; n=$((n + 1)); done
    printf '\x00%.0s' $(seq 1 $((16 * (4 - n)))); printf '\x55\xaa'; } | dd of="$1" bs=1 seek=446 conv=notrunc,fsync status=none
}

# SIGTERM to the daemon $R (output in /tmp/NAME.*): prints its exit code, the "still in use" line, whether the device
# stayed, then what `delete` says and whether the device stayed after it.
sigterm_and_delete() { # NAME
  kill -TERM "$R"; wait "$R"; echo "stop rc=$?"
  grep -h -o 'is still in use: .*' "/tmp/$1.out" "/tmp/$1.err" | head -1
  grep -h -o 'unless one re-attaches it by .*' "/tmp/$1.out" "/tmp/$1.err" | head -1
  [ -b "$DEV" ] && echo "device kept"
  "$S3" delete "${DEV#/dev/ublkb}" 2>&1; echo "delete rc=$?"
  [ -b "$DEV" ] && echo "device kept after delete"
}

section tools
# systemd as PID 1 preloads no modules, and udev (which dmsetup waits for) starts beside this script.
echo "system: $(timeout 120 systemctl is-system-running --wait)"
modprobe ublk_drv && echo "ublk_drv loaded"
for tool in blockdev dmsetup mkswap swapon swapoff mkfs.ext4 fsck.ext4 flock; do
  command -v "$tool" >/dev/null && echo "tool $tool" || echo "missing tool $tool"
done
modprobe dm_mod && echo "dm_mod loaded"

section setup
"$S3" create vin --size 1GiB --chunk-size 1MiB; echo "create rc=$?"
start_daemon a run vin $OPTS
DISK=$DEV
# p1 256 MiB and p2 256 MiB (Linux), p3 128 MiB (swap).
write_mbr "$DISK" 1:256:83 257:256:83 513:128:82 && blockdev --rereadpt "$DISK"; echo "rereadpt rc=$?"
for _ in $(seq 1 50); do [ -b "${DISK}p3" ] && break; sleep 0.1; done
ls "${DISK}"p* | tr '\n' ' '; echo
mkfs.ext4 -q "${DISK}p1" && mount "${DISK}p1" /tmp/p1 && make_tree /tmp/p1/tree && sync && sums /tmp/p1 >/tmp/p1.md5
echo "p1 files=$(wc -l </tmp/p1.md5)"
dmsetup create s3b-lin --table "0 $(blockdev --getsz "${DISK}p2") linear ${DISK}p2 0" && dmsetup mknodes s3b-lin \
  && [ -b /dev/mapper/s3b-lin ] && echo "dm target created"
mkfs.ext4 -q /dev/mapper/s3b-lin && mount /dev/mapper/s3b-lin /tmp/lv && make_tree /tmp/lv/tree && sync && sums /tmp/lv >/tmp/lv.md5
echo "lv files=$(wc -l </tmp/lv.md5)"
umount /tmp/lv
mkswap -q "${DISK}p3" && echo "swap made"

section in-use
# All three at once: p1 mounted, the dm target on p2 mounted, swap on p3. SIGTERM and delete name each of them.
mount /dev/mapper/s3b-lin /tmp/lv && echo "lv mounted"
swapon "${DISK}p3" && grep -c "${DISK#/dev/}p3" /proc/swaps | sed 's/^/swaps=/'
sigterm_and_delete a
start_daemon b recover vin $OPTS
sums /tmp/p1 | cmp -s /tmp/p1.md5 - && echo "p1 tree same" || echo "p1 tree differs"
sums /tmp/lv | cmp -s /tmp/lv.md5 - && echo "lv tree same" || echo "lv tree differs"
echo "after recover" >/tmp/p1/after && sync && echo "p1 writable"
swapoff "${DISK}p3" && echo "swap off"
umount /tmp/p1 && umount /tmp/lv && dmsetup remove s3b-lin && echo "dm target removed"

section unused
# Nothing uses it any more: SIGTERM stops and deletes it; a new daemon serves the volume from the store and the
# journal alone, with both filesystems intact.
kill -TERM "$R"; wait "$R"; echo "stop rc=$?"
grep -h '^stopped' /tmp/b.out
[ -b "$DISK" ] || echo "device deleted"
start_daemon c run vin $OPTS >/dev/null
for _ in $(seq 1 50); do [ -b "${DEV}p2" ] && break; sleep 0.1; done
fsck.ext4 -n -f "${DEV}p1" >/tmp/fsck-p1.txt 2>&1; echo "fsck p1 rc=$?"
fsck.ext4 -n -f "${DEV}p2" >/tmp/fsck-p2.txt 2>&1; echo "fsck p2 rc=$?"
mount "${DEV}p1" /tmp/p1 && sums /tmp/p1 | grep -v ' ./after$' | cmp -s /tmp/p1.md5 - && echo "p1 tree same after restart"
grep -q '^after recover$' /tmp/p1/after && echo "p1 late file kept"
umount /tmp/p1
mount "${DEV}p2" /tmp/lv && sums /tmp/lv | cmp -s /tmp/lv.md5 - && echo "lv tree same after restart"
umount /tmp/lv
kill -TERM "$R"; wait "$R"; echo "stop rc=$?"

section deadline
"$S3" create vdl --size 256MiB --chunk-size 1MiB >/dev/null; echo "create rc=$?"
# The guard's lines go to its log in the volume's state folder (also to the journal under systemd).
GLOG=data/state/vdl/guard.log
DL="--set Daemon:RecoveryDeadline=00:00:10"
# Deadlines that a daemon coming back under TCG (10 s or more from kill to re-attached) beats with room to spare.
DL30="--set Daemon:RecoveryDeadline=00:00:30"
DL60="--set Daemon:RecoveryDeadline=00:01:00"
start_daemon f run vdl $OPTS $DL
mkfs.ext4 -q "$DEV" && mount "$DEV" /tmp/mnt && dd if=/dev/urandom of=/tmp/mnt/kept bs=64k count=16 conv=fsync status=none
md5sum /tmp/mnt/kept >/tmp/kept.md5
grep -h -o 'Started the recovery-deadline guard.*' /tmp/f.out /tmp/f.err | head -1
kill -9 "$R"; wait "$R" 2>/dev/null
T0=$(date +%s)
# I/O after the daemon died: an O_DIRECT read of the disk and an fsynced write through ext4. Both wait, then fail.
dd if="$DEV" of=/dev/null bs=4k count=1 skip=100 iflag=direct status=none 2>/tmp/dd-read.err & RD=$!
dd if=/dev/urandom of=/tmp/mnt/late bs=64k count=4 conv=fsync status=none 2>/tmp/dd-write.err & WR=$!
sleep 5
echo "after 5 s: read waiting=$(kill -0 $RD 2>/dev/null && echo yes || echo no) write waiting=$(kill -0 $WR 2>/dev/null && echo yes || echo no)"
for _ in $(seq 1 300); do kill -0 $RD 2>/dev/null || kill -0 $WR 2>/dev/null || break; sleep 1; done
kill -0 $RD 2>/dev/null && echo "read still waiting after 300 s"
wait $RD; echo "read rc=$?"
wait $WR; echo "write rc=$?"
T1=$(date +%s)
[ $((T1 - T0)) -ge 10 ] && echo "failed no earlier than the deadline" || echo "failed before the deadline: $((T1 - T0)) s"
head -c 300 /tmp/dd-read.err; echo
[ -b "$DEV" ] || echo "device gone"
cat -v "$GLOG"
grep -h 's3block guard' /tmp/f.out /tmp/f.err | head -1 | sed 's/^/in the daemon output: /'
umount /tmp/mnt; echo "umount rc=$?"
echo "D-state processes=$(ps -eo stat= | grep -c '^D')"
start_daemon g run vdl $OPTS $DL60
fsck.ext4 -n -f "$DEV" >/tmp/fsck-dl.txt 2>&1; echo "fsck rc=$?"
mount "$DEV" /tmp/mnt && md5sum /tmp/mnt/kept | cmp -s /tmp/kept.md5 - && echo "fsynced file kept"

section deadline-restart
# A daemon that re-attaches the device within the deadline (60 s here) completes the I/O that waited; its own guard
# (with its own deadline, 30 s) takes over from the killed daemon's, so one guard is left.
GUARD=$(pgrep -f "guard --volume vdl " | head -1)
echo "guard running=$([ -n "$GUARD" ] && echo yes || echo no) count=$(pgrep -fc "guard --volume vdl ")"
echo "guard rss: $(ps -o rss= -p "$GUARD" 2>/dev/null | tr -d ' ') kB, locked: $(awk '/^VmLck:/ {print $2}' /proc/"$GUARD"/status) kB"
L0=$(wc -l <"$GLOG")
kill -9 "$R"; wait "$R" 2>/dev/null
T0=$(date +%s)
dd if="$DEV" of=/dev/null bs=4k count=1 skip=200 iflag=direct status=none 2>/tmp/dd-read2.err & RD=$!
sleep 4
start_daemon h recover vdl $OPTS $DL30
wait $RD; echo "read rc=$? after $(($(date +%s) - T0)) s"
sleep 15
NEWGUARD=$(pgrep -f "guard --volume vdl " | head -1)
echo "15 s later: device=$([ -b "$DEV" ] && echo kept || echo gone) old guard=$(kill -0 "$GUARD" 2>/dev/null && echo running || echo ended) count=$(pgrep -fc "guard --volume vdl ") new guard has 30 s=$(tr '\0' ' ' </proc/"$NEWGUARD"/cmdline | grep -c -- '--deadline 00:00:30')"
tail -n +$((L0 + 1)) "$GLOG"
echo late >/tmp/mnt/late2 && sync && echo "fs writable"
# A guard that dies while its daemon serves (killed by hand, OOM) is replaced by the daemon.
kill -9 "$NEWGUARD"
for _ in $(seq 1 60); do G=$(pgrep -f "guard --volume vdl " | head -1); [ -n "$G" ] && [ "$G" != "$NEWGUARD" ] && break; sleep 1; done
echo "killed guard replaced=$([ -n "$G" ] && [ "$G" != "$NEWGUARD" ] && echo yes || echo no) count=$(pgrep -fc "guard --volume vdl ")"
grep -h -o 'The recovery-deadline guard of /dev/ublkb[0-9]* has ended.*' /tmp/h.out /tmp/h.err | head -1

section stuck-start
# A daemon that hangs in its start holds the volume's instance lock for ever (here: the store's volume descriptor is a
# FIFO nobody writes, so its first read never returns). The device it would recover still fails after the deadline.
kill -9 "$R"; wait "$R" 2>/dev/null
T0=$(date +%s)
DESC=data/store/vdl.d/volume%2Ejson   # the key vdl/volume.json in the local store (LocalKeyPath)
mv "$DESC" /tmp/vdl-volume.json && mkfifo "$DESC" && echo "descriptor is a fifo"
"$S3" run vdl $OPTS $DL30 >/tmp/i.out 2>/tmp/i.err & STUCK=$!
dd if="$DEV" of=/dev/null bs=4k count=1 skip=300 iflag=direct status=none 2>/dev/null & RD=$!
sleep 5
echo "after 5 s: read waiting=$(kill -0 $RD 2>/dev/null && echo yes || echo no)"
for _ in $(seq 1 600); do flock -n data/state/vdl/daemon.lock true || break; sleep 0.1; done
echo "starting daemon holds the lock=$(flock -n data/state/vdl/daemon.lock true && echo no || echo yes) after $(($(date +%s) - T0)) s"
for _ in $(seq 1 120); do kill -0 $RD 2>/dev/null || break; sleep 1; done
kill -0 $RD 2>/dev/null && echo "read still waiting after 120 s"
wait $RD; echo "read rc=$?"
[ $(($(date +%s) - T0)) -ge 30 ] && echo "failed no earlier than the deadline"
[ -b "$DEV" ] || echo "device gone"
grep -a -h 's3block guard: no daemon has served' "$GLOG" | tail -1
echo "stuck daemon still starting=$(kill -0 $STUCK 2>/dev/null && echo yes || echo no)"
kill -9 $STUCK; wait $STUCK 2>/dev/null
rm "$DESC" && mv /tmp/vdl-volume.json "$DESC"
umount /tmp/mnt; echo "umount rc=$?"
echo "D-state processes=$(ps -eo stat= | grep -c '^D')"
start_daemon j run vdl $OPTS $DL30
fsck.ext4 -n -f "$DEV" >/tmp/fsck-dl2.txt 2>&1; echo "fsck rc=$?"
mount "$DEV" /tmp/mnt && md5sum /tmp/mnt/kept | cmp -s /tmp/kept.md5 - && echo "fsynced file kept"
grep -q late /tmp/mnt/late2 && echo "synced late file kept"
umount /tmp/mnt
kill -TERM "$R"; wait "$R"; echo "stop rc=$?"
echo "guards left=$(pgrep -fc "guard --volume vdl ")"

section pipe
# The daemon's output is a pipe (as under `s3block run ... | tee`): the pipe ends with the daemon, not with its guard.
L0=$(wc -l <"$GLOG")
rm -f data/state/vdl/guard.*.pid
{ "$S3" run vdl $OPTS $DL60 2>&1 & echo $! >/tmp/k.pid; wait; } | cat >/tmp/k.out & PIPE=$!
wait_ready /tmp/k.out /dev/null >/dev/null && DEV=$(device_of /tmp/k.out) && echo "ready through a pipe"
# Once the guard runs (it has recorded its pid), kill the daemon.
for _ in $(seq 1 300); do ls data/state/vdl/guard.*.pid >/dev/null 2>&1 && break; sleep 0.2; done
kill -9 "$(cat /tmp/k.pid)"
for _ in $(seq 1 300); do kill -0 $PIPE 2>/dev/null || break; sleep 0.1; done
echo "pipe ended with the daemon=$(kill -0 $PIPE 2>/dev/null && echo no || echo yes) guard running=$(pgrep -fc "guard --volume vdl ")"
sleep 2
tail -n +$((L0 + 1)) "$GLOG" | grep -a -o 'no daemon serves it since.*' | tail -1
# Daemon:RecoveryDeadline=0 turns the deadline off: the daemon ends the guard it finds and starts none.
start_daemon l recover vdl $OPTS --set Daemon:RecoveryDeadline=00:00:00
echo "deadline off: guards while serving=$(pgrep -fc "guard --volume vdl ")"
grep -h -o 'Ended the recovery-deadline guard of /dev/ublkb[0-9]* that a previous daemon started.*' /tmp/l.out /tmp/l.err | head -1
kill -TERM "$R"; wait "$R"; echo "stop rc=$?"
echo "guards left=$(pgrep -fc "guard --volume vdl ")"
echo "guard log:"; tail -n +$((L0 + 1)) "$GLOG"

. "$S3BLOCK_REPO/tests/Vm.Tests/guest/systemd-deadline.sh"
section end
