# Shell helpers for the guest scripts of tests/Vm.Tests (sourced in the guest: `. "$S3BLOCK_REPO/tests/vm/guest-lib.sh"`).
# The C# side splits the output at the "### name" lines printed by `section` and asserts on each part.

# The daemons here keep their state on the guest's tmpfs (half the guest's memory): the journal's default capacity
# (4 GiB) cannot exist there, and the daemon refuses such a setting at start. --set and the tests' own settings win.
export S3BLOCK_Journal__CapacityBytes=${S3BLOCK_Journal__CapacityBytes:-512MiB}

# Starts a named part of the output.
section() { printf '### %s\n' "$1"; }

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
