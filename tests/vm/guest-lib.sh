# Shell helpers for the guest scripts of tests/Vm.Tests (sourced in the guest: `. "$S3BLOCK_REPO/tests/vm/guest-lib.sh"`).
# The C# side splits the output at the "### name" lines printed by `section` and asserts on each part.

# The daemons here keep their state on the guest's tmpfs (half the guest's memory): the journal's default capacity
# (4 GiB) cannot exist there, and the daemon refuses such a setting at start. --set and the tests' own settings win.
export S3BLOCK_Journal__CapacityBytes=${S3BLOCK_Journal__CapacityBytes:-512MiB}

# Starts a named part of the output; "@Ns" is the script's age then, so the saved log shows where a boot's time goes.
section() { printf '### %s @%ss\n' "$1" "$SECONDS"; }

# Waits (up to 2 min) for a daemon's "ready: ..." line in OUT and prints it; on timeout prints OUT and ERR.
wait_ready() { # OUT ERR
  for _ in $(seq 1 600); do grep -q '^ready' "$1" && { grep '^ready' "$1"; return 0; }; sleep 0.2; done
  echo "never ready"; cat "$1" "$2"; return 1
}

# Starts `$S3 ARGS...` (S3: the s3block binary) in the background with its output in /tmp/NAME.out and
# /tmp/NAME.err, waits until it is ready and prints the ready line. Sets R (its pid) and DEV (its device).
start_daemon() { # NAME ARGS...
  local name=$1; shift
  "$S3" "$@" >"/tmp/$name.out" 2>"/tmp/$name.err" &
  R=$!
  wait_ready "/tmp/$name.out" "/tmp/$name.err" || return 1
  DEV=$(device_of "/tmp/$name.out")
}

# Ends VOLUME's recovery-deadline guard. A kill -9 of the daemon leaves it running on purpose (it outlives crashes),
# so a test that simulates losing the machine or its disk ends it too: else it keeps its lock and its log open in the
# state folder (e.g. "Directory not empty" when the test deletes that folder). The [g] keeps pkill off the calling
# script's own command line.
end_guard() { # VOLUME
  pkill -9 -f "[g]uard --volume $1 "; sleep 0.5
}

# The /dev/ublkbN that the daemon whose output is in OUT serves.
device_of() { sed -n 's/^ready: serving volume [^ ]* on \(\/dev\/ublkb[0-9]*\).*/\1/p' "$1"; }

# md5sum of every file under DIR (lost+found excluded), sorted by path: two trees are the same if these are.
sums() { (cd "$1" && find . -type f ! -path './lost+found*' -exec md5sum {} + | sort -k2); }

# A tree of 30 files of random sizes (up to ~512 KiB) under DIR.
make_tree() { # DIR
  local d i
  for d in a b c; do
    mkdir -p "$1/$d/sub"
    for i in 1 2 3 4 5; do
      head -c $((RANDOM * 16 + i)) /dev/urandom >"$1/$d/f$i"
      head -c 5000 /dev/urandom >"$1/$d/sub/g$i"
    done
  done
}

# IO_FLUSHER on every thread of process PID: field 9 (flags) of each /proc/PID/task/TID/stat must hold
# PF_MEMALLOC_NOIO (0x80000) and PF_LOCAL_THROTTLE (0x100000), which PR_SET_IO_FLUSHER sets. Prints
# "threads=N io_flusher=M", "with: NAME" for each thread name that has it (sorted, unique), "without: TID NAME" for
# each thread that lacks it, and "vmlck_kb=K" (VmLck, memory locked with mlock).
io_flusher_report() { # PID
  local n=0 m=0 t stat rest flags name
  for t in /proc/"$1"/task/*; do
    stat=$(cat "$t/stat" 2>/dev/null) || continue
    [ -n "$stat" ] || continue
    rest=${stat##*") "}   # the name (field 2) may hold spaces and parentheses: count after its last ") "
    flags=$(echo "$rest" | awk '{print $7}')
    name=$(cat "$t/comm" 2>/dev/null)
    n=$((n + 1))
    if [ $((flags & 0x180000)) -eq $((0x180000)) ]; then
      m=$((m + 1)); echo "with: $name" >>/tmp/io-flusher-names.$$
    else
      echo "without: ${t##*/} $name"
    fi
  done
  sort -u /tmp/io-flusher-names.$$ 2>/dev/null; rm -f /tmp/io-flusher-names.$$
  echo "threads=$n io_flusher=$m"
  echo "vmlck_kb=$(awk '/^VmLck:/ {print $2}' /proc/"$1"/status)"
}
