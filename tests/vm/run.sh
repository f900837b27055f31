#!/usr/bin/env bash
# Boots the ublk test VM (Debian 6.12 kernel under qemu/TCG, host / shared read-only) and runs one
# command in it as root, in the same working directory as here. The command's output is streamed to
# stdout; run.sh exits with the command's exit status.
#
# Usage: tests/vm/run.sh [options] -- COMMAND [ARG...]
#        tests/vm/run.sh --check          # are the prerequisites (tests/vm/setup.sh) in place?
# Options:
#   --mem MiB        guest memory (default 4096)
#   --smp N          guest CPUs (default 2)
#   --share HOSTDIR  writable share: in the guest at /run/share AND at HOSTDIR itself
#   --timeout S      kill the VM after S seconds, boot included (default 600); exit status 124
#   --env NAME=VALUE extra environment for the command (repeatable)
#   --modules "A B"  modules to load before the command (default "ublk_drv loop ext4 xfs crc32c");
#                    others load on demand (`modprobe X` in the guest, or the kernel's own requests)
#   --dmesg FILE     copy the guest's kernel log (taken after the command ended) to FILE
#   --kernel-args S  extra kernel command line (debugging; a test uses it to make the boot crash)
#   --disk IMG       attach a raw image as a virtio disk (cache=none: a guest flush reaches the host's
#                    disk); repeatable, /dev/vda, /dev/vdb, ... in order; `modprobe virtio_blk` in the guest
#   --scratch-disk IMG  attach a raw image whose host-side durability does not matter, after every --disk
#                    (cache=unsafe: writes go through the host's page cache, guest flushes stop there). For a
#                    log of the guest's writes: the host's disk failed bursts of its large, unaligned O_DIRECT
#                    writes with EIO (dm-log-writes: 3 of 7 boots of PowerCut's workload)
#   --systemd        boot systemd as PID 1 (root: an overlayfs over the host's /, writable, changes lost at
#                    poweroff); the command runs as a unit (s3block-vm-command.service) after basic.target,
#                    then the VM powers off cleanly through systemd. No modules are preloaded (--modules is
#                    ignored): load them as a user would (modules-load.d, modprobe)
#   --state-disk IMG with --systemd: the overlay's upper layer lives on this ext4 image instead of a tmpfs, so
#                    the guest's root (units, /etc, /var/lib) survives into the next boot with the same IMG, a
#                    reboot. A missing IMG is created (sparse, 8 GiB) and formatted. Not one of the /dev/vdX of --disk
#   --verbose        show the boot console and timings on stderr
#   --keep           keep the per-run folder (.cache/vm/runs/run.*) for inspection
# Exit status: the command's, or 124 = timeout, 125 = the VM failed (setup missing, boot failure,
# kernel panic, qemu error). A kernel that crashes while booting, before the command starts, is booted
# again once. COMMAND is run as an argument vector (no shell); use `bash -c '...'` for
# shell syntax.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

readonly EXIT_TIMEOUT=124
readonly EXIT_VM_FAILED=125
VM_DIE_STATUS=${EXIT_VM_FAILED}

MEM_MIB=4096
SMP=2
SHARE_DIR=""
TIMEOUT_S=600
VERBOSE=0
KEEP=0
DMESG_OUT=""
EXTRA_KERNEL_ARGS=""
CHECK_ONLY=0
EXTRA_ENV=()
DISKS=()
SCRATCH_DISKS=()
STATE_DISK=""
STATE_DISK_SERIAL="s3block-state"
STATE_MODULES=""
SYSTEMD=0
MODULES="${VM_GUEST_MODULES[*]}"
COMMAND=()

RUN_DIR=""
QEMU_PID=""
FILTER_PID=""

usage() {
  sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

parse_args() {
  while (($#)); do
    case "$1" in
      --mem) MEM_MIB="${2:?--mem needs MiB}"; shift ;;
      --smp) SMP="${2:?--smp needs a count}"; shift ;;
      --share) SHARE_DIR="${2:?--share needs a folder}"; shift ;;
      --timeout) TIMEOUT_S="${2:?--timeout needs seconds}"; shift ;;
      --env) EXTRA_ENV+=("${2:?--env needs NAME=VALUE}"); shift ;;
      --modules) MODULES="${2?--modules needs a list}"; shift ;;
      --dmesg) DMESG_OUT="${2:?--dmesg needs a file}"; shift ;;
      --kernel-args) EXTRA_KERNEL_ARGS="${2?--kernel-args needs arguments}"; shift ;;
      --disk) DISKS+=("${2:?--disk needs an image file}"); shift ;;
      --scratch-disk) SCRATCH_DISKS+=("${2:?--scratch-disk needs an image file}"); shift ;;
      --state-disk) STATE_DISK="${2:?--state-disk needs an image file}"; shift ;;
      --systemd) SYSTEMD=1 ;;
      --verbose) VERBOSE=1 ;;
      --keep) KEEP=1 ;;
      --check) CHECK_ONLY=1 ;;
      -h | --help) usage; exit 0 ;;
      --) shift; COMMAND=("$@"); break ;;
      *) vm_die "unknown argument: $1 (the command goes after --; see --help)" ;;
    esac
    shift
  done
  [[ "${MEM_MIB}" =~ ^[0-9]+$ && "${SMP}" =~ ^[0-9]+$ && "${TIMEOUT_S}" =~ ^[0-9]+$ ]] \
    || vm_die "--mem, --smp and --timeout take whole numbers"
  local kv
  for kv in "${EXTRA_ENV[@]}"; do
    [[ "${kv}" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || vm_die "--env wants NAME=VALUE, got: ${kv}"
  done
  if ((CHECK_ONLY == 0 && ${#COMMAND[@]} == 0)); then
    vm_die "no command given (tests/vm/run.sh [options] -- COMMAND...)"
  fi
  local disk
  for disk in "${DISKS[@]}" "${SCRATCH_DISKS[@]}"; do
    [[ -f "${disk}" ]] || vm_die "--disk/--scratch-disk: ${disk} is not a file"
  done
  if [[ -n "${STATE_DISK}" ]]; then
    ((SYSTEMD)) || vm_die "--state-disk needs --systemd"
    [[ -d "$(dirname -- "${STATE_DISK}")" ]] || vm_die "--state-disk: no folder for ${STATE_DISK}"
  fi
  if [[ -n "${SHARE_DIR}" ]]; then
    [[ -d "${SHARE_DIR}" ]] || vm_die "--share: ${SHARE_DIR} is not a folder"
    SHARE_DIR="$(cd -- "${SHARE_DIR}" && pwd -P)"
  fi
}

check_prerequisites() {
  # Fail loudly with the fix, never skip: a test suite that silently skips the VM proves nothing.
  local hint="run tests/vm/setup.sh (as root) first"
  command -v qemu-system-x86_64 >/dev/null || vm_die "qemu-system-x86_64 is not installed; ${hint}"
  [[ -f "${VM_VMLINUX}" && -f "${VM_INITRAMFS}" && -f "${VM_STAMP}" ]] \
    || vm_die "the VM kernel/initramfs are missing under ${VM_CACHE_DIR}; ${hint}"
  [[ "$(cat -- "${VM_STAMP}")" == "$(vm_fingerprint)" ]] \
    || vm_die "the VM cache is stale (tests/vm or the kernel version changed); ${hint}"
  [[ "$(id -u)" == 0 ]] || vm_die "run.sh must run as root (qemu shares / with the guest's root)"
}

sq() {
  # POSIX single-quoting, readable by both bash and the initramfs' busybox sh.
  printf "'%s'" "${1//\'/\'\\\'\'}"
}

qemu_path() {
  # qemu's option syntax uses commas as separators; a literal comma is written twice.
  printf '%s' "${1//,/,,}"
}

make_run_dir() {
  mkdir -p -- "${VM_RUNS_DIR}"
  # Runs killed with SIGKILL cannot clean up; sweep what is older than a day (no run lasts that long).
  find "${VM_RUNS_DIR}" -mindepth 1 -maxdepth 1 -name 'run.*' -mmin +1440 -exec rm -rf -- {} + 2>/dev/null || true
  RUN_DIR="$(mktemp -d "${VM_RUNS_DIR}/run.XXXXXX")"
}

guest_path_env() {
  # The host's dotnet may live outside /usr/bin (e.g. actions/setup-dotnet); keep it on PATH. Under
  # /root it would be hidden by the guest's tmpfs HOME, so say so rather than fail mysteriously.
  local path="/run/s3block-vm/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  local dotnet_root=""
  if command -v dotnet >/dev/null; then
    dotnet_root="$(dirname -- "$(readlink -f -- "$(command -v dotnet)")")"
    [[ ":${path}:" == *":${dotnet_root}:"* ]] || path="${path}:${dotnet_root}"
    [[ "${dotnet_root}" != /root/* ]] \
      || vm_log "WARNING: dotnet is under /root, which the guest covers with a tmpfs; it will not run there"
  fi
  printf 'export PATH=%s\n' "$(sq "${path}")"
  [[ -z "${dotnet_root}" ]] || printf 'export DOTNET_ROOT=%s\n' "$(sq "${dotnet_root}")"
}

prepare_state_disk() {
  [[ -n "${STATE_DISK}" ]] || return 0
  if [[ ! -s "${STATE_DISK}" ]]; then
    truncate -s 8G -- "${STATE_DISK}"
    mkfs.ext4 -q -F -L s3block-state -- "${STATE_DISK}" || vm_die "mkfs.ext4 ${STATE_DISK}"
  fi
  STATE_MODULES="$(state_disk_modules)"
  [[ "${STATE_MODULES}" == *ext4.ko* ]] || vm_die "the state disk's modules (virtio_blk, ext4) are missing: run tests/vm/setup.sh"
}

state_disk_modules() {
  # The modules the initramfs loads to mount the state disk, in dependency order, as host paths (the guest reads them
  # from the host root; setup.sh decompressed them: busybox insmod reads plain .ko only).
  [[ -n "${STATE_DISK}" ]] || return 0
  local line list=()
  while read -r line; do
    line="${line#insmod }"
    list+=("$(readlink -f -- "${line%% *}")")
  done < <(modprobe -d "${VM_KERNEL_ROOT}" -S "${VM_KERNEL_VERSION}" --show-depends -a virtio_blk crc32c_generic ext4 \
    | grep '^insmod ' | awk '!seen[$0]++')
  local m
  for m in "${list[@]}"; do
    [[ "${m}" == *.ko ]] || return 0
  done
  printf '%s' "${list[*]}"
}

write_guest_files() {
  # guest.conf: read by the guest's init (busybox sh). cmd.sh: the command, run by the host's bash
  # inside the guest. Writing the command into a file (not the kernel command line) keeps any quoting
  # intact and has no length limit.
  {
    printf 'VM_KERNEL_ROOT=%s\n' "$(sq "${VM_KERNEL_ROOT}")"
    printf 'VM_SHARE_HOST=%s\n' "$(sq "${SHARE_DIR}")"
    printf 'VM_REPO_HOST=%s\n' "$(sq "$(repo_share)")"
    printf 'VM_MODULES=%s\n' "$(sq "${MODULES}")"
    if [[ -n "${STATE_DISK}" ]]; then
      printf 'VM_STATE_SERIAL=%s\n' "$(sq "${STATE_DISK_SERIAL}")"
      printf 'VM_STATE_MODULES=%s\n' "$(sq "${STATE_MODULES}")"
    fi
  } >"${RUN_DIR}/guest.conf"

  local kv
  {
    echo '#!/bin/bash'
    echo '# Written by tests/vm/run.sh; runs inside the guest as root with a clean environment.'
    guest_path_env
    cat <<'EOF'
export HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb LANG=C.UTF-8 TMPDIR=/tmp
export DOTNET_CLI_HOME=/root DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_GENERATE_ASPNET_CERTIFICATE=false DOTNET_CLI_WORKLOAD_UPDATE_NOTIFY_DISABLE=true
export S3BLOCK_VM=1 S3BLOCK_VM_RUN_DIR=/run/vm
EOF
    printf 'export S3BLOCK_VM_KERNEL_ROOT=%s\n' "$(sq "${VM_KERNEL_ROOT}")"
    printf 'export S3BLOCK_VM_KERNEL_CONFIG=%s\n' "$(sq "${VM_KERNEL_CONFIG}")"
    if [[ -n "${SHARE_DIR}" ]]; then
      printf 'export S3BLOCK_VM_SHARE=/run/share S3BLOCK_VM_SHARE_HOST=%s\n' "$(sq "${SHARE_DIR}")"
    fi
    for kv in "${EXTRA_ENV[@]}"; do
      printf 'export %s=%s\n' "${kv%%=*}" "$(sq "${kv#*=}")"
    done
    printf 'cd -- %s || exit 125\n' "$(sq "${PWD}")"
    printf 'exec'
    printf ' %s' "${COMMAND[@]@Q}"
    printf '\n'
  } >"${RUN_DIR}/cmd.sh"
}

qemu_args() {
  # TCG, not KVM: nested KVM on these machines cannot emulate some instructions the kernel uses.
  # -nodefaults/-display none: no VGA, no default NIC, nothing to probe; the console is the serial port.
  # panic=-1 + -no-reboot: a kernel panic ends qemu at once instead of hanging until the timeout.
  # mitigations=off: speculative-execution workarounds only cost emulated cycles in a throwaway guest.
  # 8250.nr_uarts/i8042.*: do not probe legacy devices the machine does not have.
  # maxcpus=1: the kernel patches its own code while booting (static keys; "sched_clock: Marking stable" at ~2.5 s).
  # Under multi-threaded TCG another vCPU running that code at the moment can take a stray int3 and Oops (seen in CI:
  # sched_clock_cpu+0x9, on both boots of one run). With one CPU nothing runs beside the patching; guest-init.sh brings
  # the other CPUs online before it starts anything.
  local append="console=ttyS0 quiet panic=-1 maxcpus=1 mitigations=off 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.nopnp"
  # systemd mode (guest-init.sh): no status lines on the console, where the command's output goes.
  ((SYSTEMD == 0)) || append="${append} s3block.init=systemd systemd.show_status=0"
  [[ -z "${EXTRA_KERNEL_ARGS}" ]] || append="${append} ${EXTRA_KERNEL_ARGS}"
  # shellcheck disable=SC2054  # commas belong to qemu's option syntax
  QEMU_ARGS=(
    -nodefaults -no-user-config -no-reboot
    -machine q35 -accel tcg,thread=multi -cpu max -smp "${SMP}" -m "${MEM_MIB}"
    -display none -monitor none -chardev stdio,id=console,signal=off -serial chardev:console
    -nic none
    -kernel "${VM_VMLINUX}" -initrd "${VM_INITRAMFS}" -append "${append}"
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
    -virtfs "local,path=$(qemu_path "${RUN_DIR}"),mount_tag=vmrun,security_model=none,multidevs=remap"
  )
  if [[ -n "${SHARE_DIR}" ]]; then
    QEMU_ARGS+=(-virtfs "local,path=$(qemu_path "${SHARE_DIR}"),mount_tag=share,security_model=none,multidevs=remap")
  fi
  local disk
  for disk in "${DISKS[@]}"; do
    QEMU_ARGS+=(-drive "file=$(qemu_path "${disk}"),if=virtio,format=raw,cache=none,aio=threads")
  done
  for disk in "${SCRATCH_DISKS[@]}"; do
    QEMU_ARGS+=(-drive "file=$(qemu_path "${disk}"),if=virtio,format=raw,cache=unsafe")
  done
  if [[ -n "${STATE_DISK}" ]]; then
    # A serial number, not a position: the guest finds it whatever --disk images come first. cache=unsafe: the guest's
    # flushes (every fdatasync of the daemon's journal) stop at the host's page cache, which is all the next boot
    # reads; nothing here cuts the host's power, and a host fsync per guest flush would only slow the first boot.
    QEMU_ARGS+=(-drive "file=$(qemu_path "${STATE_DISK}"),if=none,id=state,format=raw,cache=unsafe")
    QEMU_ARGS+=(-device "virtio-blk-pci,drive=state,serial=${STATE_DISK_SERIAL}")
  fi
  if [[ -n "$(repo_share)" ]]; then
    QEMU_ARGS+=(-virtfs "local,path=$(qemu_path "${VM_REPO_ROOT}"),mount_tag=repo,security_model=none,readonly=on,multidevs=remap")
  fi
}

repo_share() {
  # The guest covers these folders with a tmpfs, hiding what the host has there. A repository (a CI clone,
  # say) under one of them must reach the guest as a share of its own, mounted at the same path.
  case "${VM_REPO_ROOT}/" in
    /tmp/*|/var/tmp/*|/var/log/*|/run/*|/root/*|/mnt/*|/dev/shm/*) printf '%s' "${VM_REPO_ROOT}" ;;
  esac
}

seconds_since() {
  # Elapsed wall time since an $EPOCHREALTIME value, as seconds with two decimals (no bc needed).
  local now_us=$((${EPOCHREALTIME/./})) start_us=$((${1/./}))
  local centis=$(((now_us - start_us) / 10000))
  printf '%d.%02d\n' $((centis / 100)) $((centis % 100))
}

filter_console() {
  # Reads the serial console. Before S3BLOCK-VM-START it is boot noise (shown with --verbose); after it,
  # the command's output goes to stdout; the exit marker and shutdown noise are swallowed. Everything is
  # kept in console.log for failure reports. Markers: see tests/vm/guest-init.sh.
  local start="$1" state="boot" line blanks=0
  exec 3>"${RUN_DIR}/console.log"
  while IFS= read -r line || [[ -n "${line}" ]]; do
    line="${line%$'\r'}"
    printf '%s\n' "${line}" >&3
    case "${state}" in
      boot)
        if [[ "${line}" == S3BLOCK-VM-START ]]; then
          state="command"
          seconds_since "${start}" >"${RUN_DIR}/boot-seconds"
        elif ((VERBOSE)) || [[ "${line}" == S3BLOCK-VM-BOOT-FAILED* ]]; then
          printf '%s\n' "${line}" >&2
        fi
        ;;
      command)
        # stage2 prints an empty line before the exit marker; hold blank lines back until we know
        # whether the marker follows.
        if [[ "${line}" =~ ^S3BLOCK-VM-EXIT=[0-9]+$ ]]; then
          ((blanks > 0)) && blanks=$((blanks - 1))
          for ((; blanks > 0; blanks--)); do echo; done
          state="done"
        elif [[ -z "${line}" ]]; then
          blanks=$((blanks + 1))
        else
          for ((; blanks > 0; blanks--)); do echo; done
          printf '%s\n' "${line}"
        fi
        ;;
      done)
        ((VERBOSE)) && printf '%s\n' "${line}" >&2
        ;;
    esac
  done
}

run_qemu() {
  local start="${EPOCHREALTIME}"
  mkfifo "${RUN_DIR}/console.fifo"
  filter_console "${start}" <"${RUN_DIR}/console.fifo" &
  FILTER_PID=$!
  # timeout(1) kills qemu (TERM, then KILL 10 s later) so a hung guest cannot hang the test run.
  timeout --kill-after=10 "${TIMEOUT_S}" qemu-system-x86_64 "${QEMU_ARGS[@]}" \
    </dev/null >"${RUN_DIR}/console.fifo" 2>"${RUN_DIR}/qemu.stderr" &
  QEMU_PID=$!
  local status=0
  wait "${QEMU_PID}" || status=$?
  QEMU_PID=""
  wait "${FILTER_PID}" || true
  FILTER_PID=""
  QEMU_STATUS=${status}
  TOTAL_SECONDS="$(seconds_since "${start}")"
}

report_failure() {
  vm_log "$1"
  vm_log "--- last console lines ---"
  tail -n 40 -- "${RUN_DIR}/console.log" >&2 || true
  if [[ -s "${RUN_DIR}/qemu.stderr" ]]; then
    vm_log "--- qemu stderr ---"
    cat -- "${RUN_DIR}/qemu.stderr" >&2
  fi
}

finish() {
  if [[ -n "${DMESG_OUT}" && -f "${RUN_DIR}/dmesg.txt" ]]; then
    cp -- "${RUN_DIR}/dmesg.txt" "${DMESG_OUT}"
  fi
  if ((VERBOSE)); then
    vm_log "boot to command start: $(cat -- "${RUN_DIR}/boot-seconds" 2>/dev/null || echo '?') s; whole run: ${TOTAL_SECONDS} s"
  fi
  if ((QEMU_STATUS == 124 || QEMU_STATUS == 137)); then
    KEEP_ON_FAILURE=1
    report_failure "timed out after ${TIMEOUT_S} s; qemu was killed"
    return "${EXIT_TIMEOUT}"
  fi
  if [[ -f "${RUN_DIR}/exit-code" ]]; then
    return "$(cat -- "${RUN_DIR}/exit-code")"
  fi
  KEEP_ON_FAILURE=1
  if ((QEMU_STATUS != 0)); then
    report_failure "qemu failed (status ${QEMU_STATUS})"
  elif grep -q '^S3BLOCK-VM-BOOT-FAILED' "${RUN_DIR}/console.log"; then
    report_failure "the guest failed to boot"
  else
    report_failure "the VM stopped before the command finished (kernel panic?)"
  fi
  return "${EXIT_VM_FAILED}"
}

# The VM stopped by itself (no timeout, no qemu error) before the guest's init started the command, and not
# because init reported a setup problem (S3BLOCK-VM-BOOT-FAILED, which a second boot would repeat).
crashed_while_booting() {
  ((QEMU_STATUS == 0)) && [[ ! -f "${RUN_DIR}/exit-code" ]] \
    && ! grep -q -e '^S3BLOCK-VM-START' -e '^S3BLOCK-VM-BOOT-FAILED' -- "${RUN_DIR}/console.log"
}

cleanup() {
  # Never leave a qemu behind: on Ctrl-C or when a test runner kills us, stop our own children.
  [[ -z "${QEMU_PID}" ]] || kill -TERM "${QEMU_PID}" 2>/dev/null || true
  [[ -z "${QEMU_PID}" ]] || wait "${QEMU_PID}" 2>/dev/null || true
  [[ -z "${FILTER_PID}" ]] || kill -TERM "${FILTER_PID}" 2>/dev/null || true
  if [[ -n "${RUN_DIR}" ]]; then
    if ((KEEP)) || ((KEEP_ON_FAILURE && ${S3BLOCK_VM_KEEP_FAILED:-0})); then
      vm_log "per-run folder kept: ${RUN_DIR}"
    else
      rm -rf -- "${RUN_DIR}"
    fi
  fi
}

main() {
  parse_args "$@"
  check_prerequisites
  ((CHECK_ONLY == 0)) || { vm_log "VM prerequisites are in place (${VM_KERNEL_VERSION})"; return 0; }
  KEEP_ON_FAILURE=0
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  make_run_dir
  prepare_state_disk
  write_guest_files
  qemu_args
  run_qemu
  if crashed_while_booting; then
    # Seen in CI: an int3 Oops in kernel code being live-patched at boot, under multi-threaded TCG (maxcpus=1 now
    # avoids that cause). The command never started, so nothing happened that a second boot could repeat: boot again,
    # once, and say so.
    vm_log "the guest kernel crashed while booting, before the command started; booting again (once)"
    grep -m1 -e 'Oops' -e 'BUG:' -e 'Kernel panic' -- "${RUN_DIR}/console.log" >&2 || true
    rm -f -- "${RUN_DIR}/console.fifo" "${RUN_DIR}/boot-seconds"
    run_qemu
  fi
  local status=0
  finish || status=$?
  return "${status}"
}

main "$@"
