#!/usr/bin/env bash
# Installs and runs a throw-away single-node Ceph RadosGW (S3 server) on loopback for the integration tests.
# LocalStack cannot run on the test machines (no Docker, no PyPI); RadosGW from Debian stands in for it.
# See /work/shared/docs/s3-servers.md for the setup this script follows and the quirks of RadosGW 16.
#
# Usage:
#   radosgw.sh install              install the Debian packages (no-op when already installed)
#   radosgw.sh start DIR [PORT]     fresh cluster with all state under DIR; S3 on 127.0.0.1:PORT (default:
#                                   first free port from 7480); writes DIR/env and prints it
#   radosgw.sh stop DIR             stop the daemons started in DIR (idempotent); DIR can then be removed
#   radosgw.sh status DIR           print whether the cluster in DIR is up; exit 0 if up, 1 if not
#   radosgw.sh stop-gateway DIR     stop only the S3 gateway (an S3 outage; the cluster keeps its data)
#   radosgw.sh start-gateway DIR    start the S3 gateway again on the same port (the outage ends)
#
# Environment: RADOSGW_TIMEOUT (seconds per wait, default 120).
#
# Everything (config, mon store, OSD block file, pid files, admin sockets, logs) lives under DIR and every
# command gets "-c DIR/ceph.conf", so /etc/ceph and /var are never written: the script also runs inside a
# VM that sees the host's root read-only with DIR on a tmpfs. Several instances in different DIRs can run
# at once.
set -euo pipefail

readonly PACKAGES=(ceph-mon ceph-osd radosgw ceph-base ceph-common)
readonly TIMEOUT="${RADOSGW_TIMEOUT:-120}"
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || { echo "radosgw.sh: RADOSGW_TIMEOUT must be a number of seconds" >&2; exit 2; }
readonly MON_ID=a
readonly OSD_ID=0
readonly RGW_NAME=client.rgw.a
readonly ACCESS_KEY=test
readonly SECRET_KEY=test
readonly REGION=us-east-1
# Daemons in stop order: radosgw first (it uses the OSD), the mon last (everyone talks to it).
readonly DAEMONS=("$RGW_NAME" "osd.$OSD_ID" "mon.$MON_ID")

# Set by set_paths.
DIR=
CONF=

# Microseconds since the epoch (EPOCHREALTIME uses the locale's decimal point).
now_us() { echo "${EPOCHREALTIME//[.,]/}"; }

# Seconds since a start time taken with now_us, e.g. "4.9s".
elapsed() {
    local us=$(($(now_us) - $1))
    printf '%d.%ds' $((us / 1000000)) $((us % 1000000 / 100000))
}

# Messages go to fd 9, a copy of the original stderr, so that they are seen even from inside run_step,
# which keeps the stderr of the commands it runs aside.
exec 9>&2
log() { printf 'radosgw.sh: %s\n' "$*" >&9; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '/^# Usage:/,/^# Environment:/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------------------------------------- install

packages_installed() {
    local pkg status
    for pkg in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) || return 1
        [[ $status == installed ]] || return 1
    done
}

# True when apt knows an installable version of every package (i.e. the package lists are present).
packages_known() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]' || return 1
    done
}

# Wait for the dpkg/apt locks instead of failing when another apt-get runs (e.g. a parallel CI step).
readonly APT_OPTS=(-q -o DPkg::Lock::Timeout=600)

apt_update() {
    log "apt-get update"
    # Third-party sources may be unreachable here; what matters is that the Debian lists arrive,
    # which the install that follows reveals.
    apt-get "${APT_OPTS[@]}" update >&2 || log "apt-get update reported errors (continuing)"
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y --no-install-recommends \
        "${PACKAGES[@]}" >&2
}

cmd_install() {
    if packages_installed; then
        log "packages already installed: ${PACKAGES[*]}"
        return 0
    fi
    [[ $(id -u) -eq 0 ]] || die "install needs root"
    # Update only when the lists lack the packages; if the lists are stale (404 on a fetch), update and retry.
    packages_known || apt_update
    log "installing ${PACKAGES[*]}"
    if ! apt_install; then
        apt_update
        apt_install || die "apt-get install failed"
    fi
}

# ------------------------------------------------------------------------------------------- helpers

set_paths() {
    [[ -n ${1:-} ]] || usage
    # ceph.conf values cannot hold whitespace reliably.
    [[ $1 != *[[:space:]]* ]] || die "DIR must not contain whitespace: '$1'"
    mkdir -p "$1"
    DIR=$(cd "$1" && pwd -P)
    CONF=$DIR/ceph.conf
}

require_binaries() {
    local bin
    for bin in ceph ceph-mon ceph-osd radosgw radosgw-admin monmaptool; do
        command -v "$bin" >/dev/null || die "$bin not found; run: $0 install"
    done
}

# The process name a daemon's pid file must point at ("mon.a" -> ceph-mon).
daemon_comm() {
    case $1 in
        mon.*) echo ceph-mon ;;
        osd.*) echo ceph-osd ;;
        client.rgw.*) echo radosgw ;;
        *) die "unknown daemon $1" ;;
    esac
}

pid_file() { echo "$DIR/run/$1.pid"; }
log_file() { echo "$DIR/log/$1.log"; }

# True if PID is a live (not zombie) process named COMM.
pid_alive() {
    local stat
    [[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]] || return 1
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# Prints the pid of a daemon and succeeds if it is alive. Pid file + /proc/PID/comm, never pgrep -f:
# a pattern would also match this script's own command line and the other instances' daemons.
daemon_pid() {
    local file pid
    file=$(pid_file "$1")
    [[ -r $file ]] || return 1
    read -r pid <"$file" || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    pid_alive "$pid" "$(daemon_comm "$1")" || return 1
    echo "$pid"
}

daemon_alive() { daemon_pid "$1" >/dev/null; }

# True if something listens on 127.0.0.1:PORT or on a wildcard address with that port (IPv4 or IPv6).
# Reads /proc/net/tcp* so that no extra package (ss, python) is needed.
port_in_use() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v hex="$hex" '$4 == "0A" { split($2, a, ":"); if (a[2] == hex) found = 1 } END { exit !found }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# First free port at or above $1.
free_port() {
    local port=$1
    while port_in_use "$port"; do
        port=$((port + 1))
        ((port < 65536)) || die "no free port above $1"
    done
    echo "$port"
}

# The status code of GET http://127.0.0.1:PORT/ (000 if nothing answers). Uses bash's /dev/tcp so that
# curl is not required.
http_status() {
    local line code=000
    # The braces keep "2>/dev/null" from applying to the whole shell, as a bare exec's redirection would.
    if { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null; then
        printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
        if IFS= read -r -t 5 line <&3 && [[ $line =~ ^HTTP/[0-9.]+\ ([0-9]{3}) ]]; then
            code=${BASH_REMATCH[1]}
        fi
        exec 3>&-
    fi
    echo "$code"
}

ceph_cli() { timeout "$TIMEOUT" ceph -c "$CONF" --connect-timeout 15 "$@"; }

# ceph_cli for commands that must succeed, retried. With auth none a fresh client can send its first mon
# command before it has the monmap; the mon then answers EPERM ("wrong fsid", seen by the CLI as "problem
# getting command descriptions"). The commands used here are idempotent, so trying again is safe.
ceph_retry() {
    local attempt out err=$DIR/log/ceph-cli.err
    for attempt in 1 2 3 4 5; do
        if out=$(ceph_cli "$@" 2>"$err"); then
            printf '%s\n' "$out"
            return 0
        fi
        log "ceph $* failed (attempt $attempt, retrying): $(tail -n 1 "$err")"
        sleep 1
    done
    cat "$err" >&2
    return 1
}

# Shows why a daemon failed: the tail of its log.
show_log() {
    local file
    file=$(log_file "$1")
    log "--- last lines of $file ---"
    if [[ -r $file ]]; then tail -n 40 "$file" >&2; else log "(no log)"; fi
}

# Fails the start: shows the daemon's log, stops whatever was started, exits non-zero.
fail_start() {
    local name=$1
    shift
    log "error: $*"
    [[ -n $name ]] && show_log "$name"
    stop_all >/dev/null 2>&1 || true
    exit 1
}

# Polls "$@" once a second until it succeeds; fails the start when the daemon dies or time runs out.
wait_for() {
    local name=$1 what=$2 deadline=$((SECONDS + TIMEOUT))
    shift 2
    until "$@"; do
        daemon_alive "$name" || fail_start "$name" "$name died while waiting for $what"
        ((SECONDS < deadline)) || fail_start "$name" "timed out after ${TIMEOUT}s waiting for $what"
        sleep 1
    done
}

# Runs a ceph tool, bounded in time, and prints its stdout; on failure shows its output and the log of the
# daemon concerned. Its stderr (mostly harmless noise such as mkfs probing for an old label) is kept aside.
run_step() {
    local name=$1 what=$2 out cmd err=$DIR/log/step.err
    shift 2
    cmd=("$@")
    # Functions (ceph_retry, without_fds) bound themselves; timeout(1) can only run programs.
    [[ $(type -t "$1") == file ]] && cmd=(timeout "$TIMEOUT" "$@")
    if ! out=$("${cmd[@]}" 2>"$err"); then
        log "$what failed: $*"
        cat "$err" >&2
        printf '%s\n' "$out" >&2
        fail_start "$name" "$what failed"
    fi
    printf '%s\n' "$out"
}

# Runs a daemon with every file descriptor above 2 closed. The daemons point 0-2 at /dev/null when they
# fork into the background but keep any other inherited descriptor open for their whole life; a caller
# that reads this script's output through a pipe (fd 9 here, or whatever a test runner passes down) would
# then never see end-of-file and hang.
without_fds() (
    local fd
    for fd in /proc/self/fd/*; do
        fd=${fd##*/}
        if ((fd > 2)); then exec {fd}>&-; fi
    done
    exec timeout "$TIMEOUT" "$@"
)

# Starts a daemon (it forks into the background and writes its pid file) and waits for the pid file.
launch() {
    local name=$1 deadline=$((SECONDS + TIMEOUT))
    shift
    run_step "$name" "starting $name" without_fds "$@" >/dev/null
    until daemon_alive "$name"; do
        ((SECONDS < deadline)) || fail_start "$name" "$name did not start"
        sleep 0.2
    done
}

# ----------------------------------------------------------------------------------------------- start

# Removes what an earlier, stopped run left in DIR (only the names this script creates).
clean_dir() {
    local name
    for name in "${DAEMONS[@]}"; do
        daemon_alive "$name" && die "$name is still running in $DIR; run: $0 stop $DIR"
    done
    rm -rf "$CONF" "$DIR/monmap" "$DIR/mon" "$DIR/osd" "$DIR/rgw" "$DIR/run" "$DIR/log" "$DIR/crash" \
        "$DIR/env" "$DIR/ports"
    mkdir -p "$DIR/mon" "$DIR/osd" "$DIR/rgw" "$DIR/run" "$DIR/log" "$DIR/crash"
}

choose_ports() {
    local requested=${1:-}
    if [[ -n $requested ]]; then
        [[ $requested =~ ^[0-9]+$ ]] || die "bad port: $requested"
        port_in_use "$requested" && die "port $requested is already in use"
        RGW_PORT=$requested
    else
        RGW_PORT=$(free_port 7480)
    fi
    MON_PORT=$(free_port 6789)
    # The OSD picks its own ports in 6800-7300 (ms bind port min/max); keep the mon and RGW out of its way
    # when another instance pushed them up there.
    ((MON_PORT < 6800)) || MON_PORT=$(free_port 7301)
    ((MON_PORT != RGW_PORT)) || MON_PORT=$(free_port $((RGW_PORT + 1)))
    printf 'RGW_PORT=%s\nMON_PORT=%s\n' "$RGW_PORT" "$MON_PORT" >"$DIR/ports"
}

write_conf() {
    local fsid
    fsid=$(cat /proc/sys/kernel/random/uuid)
    cat >"$CONF" <<EOF
# Throw-away single-node cluster written by radosgw.sh; everything lives under $DIR.
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
cluster addr = 127.0.0.1
public network = 127.0.0.1/32
cluster network = 127.0.0.1/32
# Loopback, IPv4, msgr v1 only: one address per daemon and nothing on other interfaces.
ms bind msgr2 = false
ms bind ipv6 = false
# No cephx between the daemons; S3 requests are still SigV4-checked against the RGW user.
auth cluster required = none
auth service required = none
auth client required = none
mon warn on insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
# Never touch /etc/ceph or /var: keyring, run dir, crash dir and logs all under DIR.
keyring = $DIR/keyring
run dir = $DIR/run
crash dir = $DIR/crash
pid file = $DIR/run/\$name.pid
log to stderr = false
err to stderr = true
mon cluster log file = $DIR/log/\$cluster.\$channel.log
# One OSD: replicas of one, tiny pg counts, no autoscaler, placement across OSDs not hosts.
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
# Commit map changes at once instead of batching them for 1 s: radosgw creates its pools one by one at
# first start, and this halves the cold start.
paxos propose interval = 0.01
paxos min wait = 0.01
# A tmpfs or a nearly full disk must not make the mon shut itself down.
mon data avail warn = 1
mon data avail crit = 0

[mon]
mon data = $DIR/mon/\$cluster-\$id
log file = $DIR/log/\$name.log
admin socket = $DIR/run/\$name.asok

[osd]
osd data = $DIR/osd/\$cluster-\$id
log file = $DIR/log/\$name.log
admin socket = $DIR/run/\$name.asok
osd objectstore = bluestore
# BlueStore on a sparse file that ceph-osd --mkfs creates itself; only written blocks take space.
bluestore block create = true
bluestore block size = 21474836480
bluestore fsck on mkfs = false
osd memory target = 1073741824
# The OSD would place itself in the CRUSH map at boot, but with auth none it can send that command before
# it knows the fsid, and the mon rejects it ("wrong fsid") so that the OSD exits; make_osd places it instead.
osd crush update on start = false
osd class update on start = false

[$RGW_NAME]
rgw data = $DIR/rgw
log file = $DIR/log/\$name.log
admin socket = $DIR/run/\$name.asok
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
# Reclaim deleted objects within minutes (the defaults wait hours).
rgw gc obj min wait = 60
rgw gc processor period = 60
EOF
}

make_mon() {
    local fsid
    fsid=$(awk '$1 == "fsid" { print $3 }' "$CONF")
    # --addv with an explicit v1 address: plain --add takes any port but 6789 for a msgr2 address, which
    # this msgr1-only mon would never answer on.
    run_step "" "monmaptool" monmaptool --create --addv "$MON_ID" "[v1:127.0.0.1:$MON_PORT]" --fsid "$fsid" \
        "$DIR/monmap" >/dev/null
    run_step "mon.$MON_ID" "ceph-mon --mkfs" ceph-mon -c "$CONF" --mkfs -i "$MON_ID" --monmap "$DIR/monmap" \
        >/dev/null
}

start_mon() {
    launch "mon.$MON_ID" ceph-mon -c "$CONF" -i "$MON_ID"
    wait_for "mon.$MON_ID" "the monitor to listen on port $MON_PORT" mon_listens
}

# A port check, not a "ceph mon stat" poll: each ceph CLI call costs about a second of CPU on a busy
# machine, and the commands that follow wait for the mon (and are retried) anyway.
mon_listens() { port_in_use "$MON_PORT"; }

make_osd() {
    local uuid id
    uuid=$(cat /proc/sys/kernel/random/uuid)
    id=$(run_step "mon.$MON_ID" "ceph osd new" ceph_retry osd new "$uuid")
    [[ $id == "$OSD_ID" ]] || fail_start "" "ceph osd new answered id '$id', expected $OSD_ID"
    run_step "mon.$MON_ID" "ceph osd crush add" ceph_retry osd crush add "osd.$OSD_ID" 1.0 root=default >/dev/null
    mkdir -p "$DIR/osd/ceph-$OSD_ID"
    run_step "osd.$OSD_ID" "ceph-osd --mkfs" ceph-osd -c "$CONF" -i "$OSD_ID" --mkfs --osd-uuid "$uuid" \
        >/dev/null
}

start_osd() {
    launch "osd.$OSD_ID" ceph-osd -c "$CONF" -i "$OSD_ID"
    wait_for "osd.$OSD_ID" "the OSD to be up" osd_up
}

osd_up() { ceph_cli osd stat 2>/dev/null | grep -q ' 1 up'; }

start_rgw() {
    launch "$RGW_NAME" radosgw -c "$CONF" -n "$RGW_NAME"
    wait_for "$RGW_NAME" "radosgw to answer on port $RGW_PORT" rgw_answers
}

rgw_answers() { [[ $(http_status "$RGW_PORT") != 000 ]]; }

create_user() {
    run_step "$RGW_NAME" "radosgw-admin user create" radosgw-admin -c "$CONF" user create \
        --uid "$ACCESS_KEY" --display-name "S3Block tests" \
        --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >/dev/null
}

write_env() {
    cat >"$DIR/env" <<EOF
S3BLOCK_TEST_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
S3BLOCK_TEST_S3_ACCESS_KEY=$ACCESS_KEY
S3BLOCK_TEST_S3_SECRET_KEY=$SECRET_KEY
S3BLOCK_TEST_S3_REGION=$REGION
EOF
    cat "$DIR/env"
}

cmd_start() {
    set_paths "${1:-}"
    require_binaries
    clean_dir
    local started
    started=$(now_us)
    choose_ports "${2:-}"
    write_conf
    log "starting in $DIR: mon on 127.0.0.1:$MON_PORT, S3 on 127.0.0.1:$RGW_PORT"
    local step
    for step in make_mon start_mon make_osd start_osd start_rgw create_user; do
        "$step"
        log "$step done ($(elapsed "$started"))"
    done
    write_env
}

# ------------------------------------------------------------------------------------------------ stop

# SIGTERM, wait, then SIGKILL; a daemon that is not running is fine. Waits on the pid, not the pid file:
# the daemons delete their pid file as soon as the signal arrives, long before they release their ports.
stop_daemon() {
    local name=$1 pid comm deadline
    pid=$(daemon_pid "$name") || { rm -f "$(pid_file "$name")"; return 0; }
    comm=$(daemon_comm "$name")
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 30))
    while pid_alive "$pid" "$comm" && ((SECONDS < deadline)); do sleep 0.1; done
    if pid_alive "$pid" "$comm"; then
        log "$name ($pid) ignored SIGTERM for 30s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 10))
        while pid_alive "$pid" "$comm" && ((SECONDS < deadline)); do sleep 0.1; done
        pid_alive "$pid" "$comm" && { log "$name ($pid) survived SIGKILL"; return 1; }
    fi
    rm -f "$(pid_file "$name")"
}

stop_all() {
    local name rc=0
    for name in "${DAEMONS[@]}"; do
        stop_daemon "$name" || rc=1
    done
    return "$rc"
}

cmd_stop() {
    [[ -n ${1:-} ]] || usage
    [[ -d $1 ]] || { log "$1 does not exist; nothing to stop"; return 0; }
    set_paths "$1"
    stop_all
    log "stopped"
}

# An outage of the S3 endpoint alone: the gateway stops and later starts on the same port, with the
# mon and OSD (and so every object) kept.
cmd_stop_gateway() {
    [[ -n ${1:-} && -d $1 ]] || usage
    set_paths "$1"
    stop_daemon "$RGW_NAME"
    log "gateway stopped"
}

cmd_start_gateway() {
    [[ -n ${1:-} && -d $1 ]] || usage
    set_paths "$1"
    [[ -r $DIR/ports ]] || die "no cluster was started in $DIR"
    RGW_PORT=$(sed -n 's/^RGW_PORT=//p' "$DIR/ports")
    daemon_alive "$RGW_NAME" && { log "gateway already running"; return 0; }
    start_rgw
    log "gateway started on 127.0.0.1:$RGW_PORT"
}

# ---------------------------------------------------------------------------------------------- status

cmd_status() {
    [[ -n ${1:-} ]] || usage
    [[ -d $1 ]] || { echo "down ($1 does not exist)"; return 1; }
    set_paths "$1"
    local name pid up=1 RGW_PORT=
    for name in "${DAEMONS[@]}"; do
        if pid=$(daemon_pid "$name"); then
            echo "$name: running (pid $pid)"
        else
            echo "$name: not running"
            up=0
        fi
    done
    [[ -r $DIR/ports ]] && RGW_PORT=$(sed -n 's/^RGW_PORT=//p' "$DIR/ports")
    if [[ -n $RGW_PORT ]]; then
        echo "S3 endpoint http://127.0.0.1:$RGW_PORT: HTTP $(http_status "$RGW_PORT")"
        rgw_answers || up=0
    fi
    if ((up)); then echo up; else echo down; return 1; fi
}

# ------------------------------------------------------------------------------------------------ main

main() {
    local sub=${1:-}
    shift || true
    case $sub in
        install) cmd_install ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
        stop-gateway) cmd_stop_gateway "$@" ;;
        start-gateway) cmd_start_gateway "$@" ;;
        *) usage ;;
    esac
}

main "$@"
