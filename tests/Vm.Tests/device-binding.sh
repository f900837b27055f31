#!/usr/bin/env bash
# Guest script of tests/Vm.Tests/DeviceBindingTests.cs (issue 10, point 1): two volumes on one host, each with a mounted
# ext4, and the device records wrong in every way a host can make them. Each daemon must re-attach its own device or
# get a fresh one, never touch another volume's or another server's device. Data is checked with checksums of trees.
#   setup     volumes va and vb, one daemon each, ext4 with a tree of files on each device, mounted
#   swapped   both daemons killed (-9) under their mounted filesystems; their device records swapped; both started at
#             once: each recovers its own device, the mounted trees are intact and writable
#   reboot    as after a reboot with ids handed out differently: both stopped cleanly, the records of the "previous
#             boot" put back (va's names id A, vb's id B); a foreign ublk server's quiesced device of the same size takes
#             id B; vb starts first and gets id A, va's record then names vb's live device: both get fresh devices,
#             neither touches the other's nor the foreign one; trees intact, fsck clean
#   dead      a daemon killed between ADD_DEV and START_DEV leaves a dead device of its volume: the next start deletes
#             it and creates a new one
# Each part prints a "### name" section that the C# side asserts on. Every wait is bounded.
# Environment: S3BLOCK_BIN (the s3block executable), S3BLOCK_REPO.
set -u
S3="$S3BLOCK_BIN"
# shellcheck source=../vm/guest-lib.sh
. "$S3BLOCK_REPO/tests/vm/guest-lib.sh"
mkdir -p /tmp/work /tmp/ma /tmp/mb && cd /tmp/work || exit 1
OPTS=(--set Volume:CommitInterval=00:00:01 --set Metrics:Enabled=false)
STATE=data/state

# Starts the daemon of VOLUME in the background (output in /tmp/NAME.out/.err); sets PID_<NAME>. No wait.
launch() { # NAME VOLUME [ARGS...]
  local name=$1 volume=$2; shift 2
  "$S3" run "$volume" "${OPTS[@]}" "$@" >"/tmp/$name.out" 2>"/tmp/$name.err" &
  printf -v "PID_$name" '%s' "$!"
}

# Waits for NAME's ready line, prints it, sets DEV_<NAME>.
ready() { # NAME
  wait_ready "/tmp/$1.out" "/tmp/$1.err" || return 1
  printf -v "DEV_$1" '%s' "$(device_of "/tmp/$1.out")"
}

# kill -9 PID and wait for it; then until its device is quiesced (the kernel's view, from `list`).
crash() { # PID
  kill -9 "$1"; wait "$1" 2>/dev/null
}

# The state and the volume column `list` shows for /dev/ublkbN.
device_line() { # ID
  "$S3" list 2>/dev/null | awk -v id="$1" '$1 == id && $2 == "/dev/ublkb" id { print }'
}

# SIGTERM and wait (up to 2 min); prints "NAME stop rc=N".
stop() { # NAME PID
  kill -TERM "$2" 2>/dev/null
  for _ in $(seq 1 600); do kill -0 "$2" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$2" 2>/dev/null && { echo "$1: still running after 120 s, killed"; kill -9 "$2"; }
  wait "$2"; echo "$1 stop rc=$?"
}

# Runs CMD... with a time limit: I/O to a device that nobody serves waits forever (D state, unkillable), and this
# script must still end and say so.
bounded() { # SECONDS CMD...
  local limit=$1; shift
  "$@" &
  local p=$!
  for _ in $(seq 1 $((limit * 5))); do kill -0 "$p" 2>/dev/null || { wait "$p"; return $?; }; sleep 0.2; done
  echo "hung: $*"; return 124
}

# Compares the tree mounted at DIR with the checksums in FILE (extra files written by this script are left out).
check_tree() { # LABEL DIR FILE
  sums "$2" | grep -v -e ' ./late' >"/tmp/got-$1.md5"
  cmp -s "$3" "/tmp/got-$1.md5" && echo "$1 tree same" || { echo "$1 tree differs"; diff "$3" "/tmp/got-$1.md5" | head -5; }
}

section setup
"$S3" create va --size 256MiB --chunk-size 1MiB >/dev/null; echo "create va rc=$?"
"$S3" create vb --size 256MiB --chunk-size 1MiB >/dev/null; echo "create vb rc=$?"
launch a va; ready a
launch b vb; ready b
for v in a b; do
  dev_var="DEV_$v"; dev=${!dev_var}
  mkfs.ext4 -q -F "$dev" && mount "$dev" "/tmp/m$v" && make_tree "/tmp/m$v" && sync && sums "/tmp/m$v" >"/tmp/$v.md5" \
    && echo "$v: ext4 on $dev mounted, files=$(wc -l <"/tmp/$v.md5")"
done
cmp -s /tmp/a.md5 /tmp/b.md5 && echo "the two trees are the same (they must differ)"
IA=${DEV_a#/dev/ublkb} IB=${DEV_b#/dev/ublkb}
echo "ids: va=$IA vb=$IB"
cp "$STATE/va/device.json" /tmp/va.rec && cp "$STATE/vb/device.json" /tmp/vb.rec
grep -h '"deviceId"\|"ownerTag"' /tmp/va.rec /tmp/vb.rec
echo "list va: $(device_line "$IA")"
echo "list vb: $(device_line "$IB")"

section swapped
crash "$PID_a"; crash "$PID_b"
sleep 1
echo "after kill va: $(device_line "$IA")"
echo "after kill vb: $(device_line "$IB")"
mv "$STATE/va/device.json" /tmp/swap && mv "$STATE/vb/device.json" "$STATE/va/device.json" && mv /tmp/swap "$STATE/vb/device.json" \
  && echo "records swapped: va's names $(sed -n 's/.*"deviceId": \([0-9]*\).*/\1/p' "$STATE/va/device.json"), vb's names $(sed -n 's/.*"deviceId": \([0-9]*\).*/\1/p' "$STATE/vb/device.json")"
# Both at once: they look at the same devices at the same time.
launch a2 va; launch b2 vb
ready a2; ready b2
[ "$DEV_a2" = "$DEV_a" ] && echo "va re-attached its own device" || echo "va is on $DEV_a2, not its own $DEV_a"
[ "$DEV_b2" = "$DEV_b" ] && echo "vb re-attached its own device" || echo "vb is on $DEV_b2, not its own $DEV_b"
grep -h "device record of volume" /tmp/a2.out /tmp/a2.err /tmp/b2.out /tmp/b2.err | sed 's/^.*The device record/log: The device record/' | sort -u
bounded 60 check_tree va /tmp/ma /tmp/a.md5
bounded 60 check_tree vb /tmp/mb /tmp/b.md5
for v in a b; do bounded 60 dd if=/dev/urandom of="/tmp/m$v/late1" bs=64k count=4 conv=fsync status=none && echo "$v writable"; done
echo "list va: $(device_line "$IA")"
echo "list vb: $(device_line "$IB")"

section reboot
bounded 60 umount /tmp/ma && bounded 60 umount /tmp/mb && echo "unmounted"
stop va "$PID_a2"; stop vb "$PID_b2"
echo "devices left=$(ls /sys/class/ublk-char 2>/dev/null | wc -l)"
# The records of the "previous boot": the ones from setup, stamped with another boot id.
OLD_BOOT=00000000-0000-4000-8000-000000000000
sed "s/\"bootId\": \"[^\"]*\"/\"bootId\": \"$OLD_BOOT\"/" /tmp/va.rec >"$STATE/va/device.json"
sed "s/\"bootId\": \"[^\"]*\"/\"bootId\": \"$OLD_BOOT\"/" /tmp/vb.rec >"$STATE/vb/device.json"
echo "previous-boot records: va names $IA, vb names $IB"
# Another ublk server's device, as large as the volumes, takes vb's old id and is left quiesced by its server's crash.
"$S3" serve-backend --backend memory --size 256MiB --id "$IB" >/tmp/foreign.out 2>/tmp/foreign.err &
FOREIGN=$!
wait_ready /tmp/foreign.out /tmp/foreign.err >/dev/null && echo "foreign device on /dev/ublkb$IB"
crash "$FOREIGN"
sleep 1
echo "foreign: $(device_line "$IB")"
launch b3 vb; ready b3
launch a3 va; ready a3
echo "ids now: vb=${DEV_b3#/dev/ublkb} va=${DEV_a3#/dev/ublkb}"
[ "${DEV_b3#/dev/ublkb}" = "$IA" ] && echo "vb got va's old id"
[ "$DEV_a3" != "$DEV_b3" ] && [ "${DEV_a3#/dev/ublkb}" != "$IB" ] && echo "va got a device of its own"
grep -h "device record of volume" /tmp/a3.out /tmp/a3.err /tmp/b3.out /tmp/b3.err | sed 's/^.*The device record/log: The device record/' | sort -u
echo "foreign after: $(device_line "$IB")"
echo "list vb: $(device_line "${DEV_b3#/dev/ublkb}")"
echo "list va: $(device_line "${DEV_a3#/dev/ublkb}")"
mount "$DEV_a3" /tmp/ma && check_tree va /tmp/ma /tmp/a.md5
mount "$DEV_b3" /tmp/mb && check_tree vb /tmp/mb /tmp/b.md5
umount /tmp/ma; umount /tmp/mb
fsck.ext4 -n -f "$DEV_a3" >/tmp/fsck-a.txt 2>&1; echo "va fsck rc=$?"
fsck.ext4 -n -f "$DEV_b3" >/tmp/fsck-b.txt 2>&1; echo "vb fsck rc=$?"
stop va "$PID_a3"; stop vb "$PID_b3"
"$S3" delete "$IB" >/dev/null 2>&1; echo "foreign delete rc=$?"
echo "devices left=$(ls /sys/class/ublk-char 2>/dev/null | wc -l)"

section dead
# Kill the daemon in the window between ADD_DEV (its char device appears) and START_DEV (the disk appears). The window
# is short: each attempt that lands after START_DEV leaves a quiesced device instead, which the next start recovers.
dead=
for attempt in 1 2 3 4 5; do
  next=0; while [ -e "/sys/class/ublk-char/ublkc$next" ]; do next=$((next + 1)); done
  launch d$attempt va
  pid_var="PID_d$attempt"; pid=${!pid_var}
  end=$((SECONDS + 120))
  until [ -e "/sys/class/ublk-char/ublkc$next" ] || [ "$SECONDS" -ge "$end" ]; do :; done
  kill -9 "$pid"; wait "$pid" 2>/dev/null
  state=$(device_line "$next" | awk '{ print $3 }')
  echo "attempt $attempt: /dev/ublkb$next ${state:-absent}"
  if [ "$state" = "dead" ]; then dead=$next; break; fi
  # Quiesced (or not made yet): a normal start takes it over, a clean stop removes it.
  launch r$attempt va; ready r$attempt >/dev/null; pid_var="PID_r$attempt"; stop "r$attempt" "${!pid_var}" >/dev/null
done
if [ -n "$dead" ]; then
  echo "dead device of va: /dev/ublkb$dead: $(device_line "$dead")"
  launch d va; ready d
  grep -h "Deleting /dev/ublkb$dead" /tmp/d.out /tmp/d.err | sed 's/^.*Deleting/log: Deleting/' | head -1
  echo "dead devices left=$("$S3" list 2>/dev/null | awk '$2 ~ /^\/dev\/ublkb/ && $3 == "dead"' | wc -l)"
  mount "$DEV_d" /tmp/ma && check_tree va /tmp/ma /tmp/a.md5 && umount /tmp/ma
  stop va "$PID_d"
else
  echo "no attempt landed between ADD_DEV and START_DEV"
fi
echo "devices left=$(ls /sys/class/ublk-char 2>/dev/null | wc -l)"
section end
