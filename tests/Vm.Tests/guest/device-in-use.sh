# Guest script of DeviceInUseTests (issue 10, points 2 and 5), one boot with systemd as PID 1 and the embedded local
# store; daemons started by hand unless the section says systemd:
# - a device in use (a mounted partition of an MBR partition table, a mounted device-mapper linear target on another
#   partition, a swap area on a third) survives SIGTERM and `delete`, which name every user; the next daemon recovers
#   it and nothing is lost; once nothing uses it, SIGTERM stops and deletes it;
# - a daemon killed and not restarted: I/O waits, then fails once Daemon:RecoveryDeadline has passed, with no process
#   left in D state; a "daemon" holding the volume's instance lock longer than the deadline keeps the device, and the
#   daemon that then recovers it completes the waiting I/O.
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
# like any other): p1 256 MiB and p2 256 MiB (Linux), p3 128 MiB (swap), in the device's logical sector size.
write_mbr() { # DEV
  local s=$((1048576 / $(blockdev --getss "$1")))
  { mbr_entry $((1 * s)) $((256 * s)) 83; mbr_entry $((257 * s)) $((256 * s)) 83; mbr_entry $((513 * s)) $((128 * s)) 82
    printf '\x00%.0s' $(seq 1 16); printf '\x55\xaa'; } | dd of="$1" bs=1 seek=446 conv=notrunc,fsync status=none
}

# SIGTERM to the daemon $R (output in /tmp/NAME.*): prints its exit code, the "still in use" line, whether the device
# stayed, then what `delete` says and whether the device stayed after it.
sigterm_and_delete() { # NAME
  kill -TERM "$R"; wait "$R"; echo "stop rc=$?"
  grep -h -o 'is still in use: .*' "/tmp/$1.out" "/tmp/$1.err" | head -1
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
write_mbr "$DISK" && blockdev --rereadpt "$DISK"; echo "rereadpt rc=$?"
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
DL="--set Daemon:RecoveryDeadline=00:00:10"
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
grep -h '^s3block guard:' /tmp/f.err /tmp/f.out
umount /tmp/mnt; echo "umount rc=$?"
echo "D-state processes=$(ps -eo stat= | grep -c '^D')"
start_daemon g run vdl $OPTS $DL
fsck.ext4 -n -f "$DEV" >/tmp/fsck-dl.txt 2>&1; echo "fsck rc=$?"
mount "$DEV" /tmp/mnt && md5sum /tmp/mnt/kept | cmp -s /tmp/kept.md5 - && echo "fsynced file kept"

section deadline-restart
# The device waits while "a daemon is coming back" holds the volume's instance lock, however long (here 20 s, twice
# the deadline); the daemon that then recovers it completes the I/O that waited.
GUARD=$(pgrep -f "guard --volume vdl .*--daemon-pid $R " | head -1)
echo "guard running=$([ -n "$GUARD" ] && echo yes || echo no)"
echo "guard rss: $(ps -o rss= -p "$GUARD" 2>/dev/null | tr -d ' ') kB"
kill -9 "$R"; wait "$R" 2>/dev/null
dd if="$DEV" of=/dev/null bs=4k count=1 skip=200 iflag=direct status=none 2>/tmp/dd-read2.err & RD=$!
flock data/state/vdl/daemon.lock sleep 20
echo "after 20 s of lock: read waiting=$(kill -0 $RD 2>/dev/null && echo yes || echo no) device=$([ -b "$DEV" ] && echo kept || echo gone)"
start_daemon h recover vdl $OPTS $DL
wait $RD; echo "read rc=$?"
sleep 15
echo "15 s later: device=$([ -b "$DEV" ] && echo kept || echo gone) old guard=$(kill -0 "$GUARD" 2>/dev/null && echo running || echo exited)"
echo late >/tmp/mnt/late2 && sync && echo "fs writable"
umount /tmp/mnt
kill -TERM "$R"; wait "$R"; echo "stop rc=$?"
echo "D-state processes=$(ps -eo stat= | grep -c '^D')"

. "$S3BLOCK_REPO/tests/Vm.Tests/guest/systemd-deadline.sh"
section end
