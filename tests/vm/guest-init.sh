#!/bin/sh
# /init of the VM test initramfs (built by setup.sh). Runs under the initramfs' static busybox, as PID 1.
#
# Phase 1 (no argument, root = initramfs): load the 9p modules, mount the host's / read-only on /newroot,
# give it writable tmpfs where programs expect to write, mount the per-run folder (and an optional
# results share), then switch_root into it. We switch_root rather than chroot a child because the
# kernel's usermode helpers (request_module -> kernel.modprobe) run in PID 1's root: after switch_root,
# an `ext4` mount that asks for `crc32c` finds our modprobe wrapper in the host root.
#
# Phase 2 (`stage2`, PID 1, root = host /): load the test modules, make io_uring usable, run the command
# that run.sh wrote into the per-run folder, report its exit code, power off.
#
# systemd mode (`s3block.init=systemd` on the kernel command line, run.sh --systemd): phase 1 mounts the host's / as
# the read-only lower layer of an overlayfs whose upper layer is a tmpfs (so units, /etc and /usr/lib can be written
# the way a user installs things), gives the guest's systemd a minimal /etc/systemd/system (none of the host's
# enabled units) with one unit that runs the command, and switch_roots to /lib/systemd/systemd. That unit runs
# `init systemd-command`: the command with its output on the console, then the exit marker and a clean
# `systemctl poweroff` (units stop in order, filesystems are unmounted). With run.sh --state-disk the upper layer is an
# ext4 image instead (found by its virtio serial), so the next boot with that image is the same machine rebooted: the
# guest's set-up is done on its first boot only, later boots just write the new command's unit.
#
# Markers on the console that run.sh looks for (keep in sync with run.sh):
#   S3BLOCK-VM-START           the guest command is about to start
#   S3BLOCK-VM-EXIT=<n>        the guest command ended with status n
#   S3BLOCK-VM-BOOT-FAILED: …  the guest could not be set up; the command never ran

# Fixed guest paths (documented in tests/vm/README.md).
RUN_DIR=/run/vm                 # per-run folder, writable 9p share (cmd.sh, guest.conf, exit-code, dmesg.txt)
SHARE_DIR=/run/share            # optional writable results share (run.sh --share)
BOOT_DIR=/run/s3block-vm        # busybox, this script and the modprobe wrapper, copied to a tmpfs

# 9p root: read-only and never changed by the host during a run, so the guest may cache it fully
# (cache=loose makes dotnet's many small reads and stats far cheaper). Writable shares use cache=mmap:
# no stale data for the host to read afterwards, and shared writable mmap still works.
P9_OPTS="trans=virtio,version=9p2000.L,msize=512000"

mark() {
  # Boot progress with the guest's uptime, shown by `run.sh --verbose` (hidden otherwise).
  read -r up _ </proc/uptime
  echo "[s3block-vm] ${up}s $*"
}

fail() {
  echo "S3BLOCK-VM-BOOT-FAILED: $*"
  # Give the console a moment to drain before the machine goes away.
  sleep 1
  /bin/busybox poweroff -f
}

has_9p_tag() {
  # Each virtio-9p device exposes its mount tag in sysfs; an absent tag means run.sh did not pass it.
  # The files hold the bare tag (no newline), so compare them one by one rather than cat them together.
  # (/sys is moved under /newroot part-way through phase 1, hence both places.)
  for f in /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag /newroot/sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; do
    [ -r "$f" ] && [ "$(tr -d '\0\n' <"$f")" = "$1" ] && return 0
  done
  return 1
}

mount_tmpfs() {
  # $1 = path under /newroot, $2 = mode
  mkdir -p "$1" || fail "mkdir $1"
  mount -t tmpfs -o "mode=$2" tmpfs "$1" || fail "tmpfs on $1"
}

phase1_early_mounts() {
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev
}

# run.sh boots with maxcpus=1 (see qemu_args there): the other CPUs come online here, after the kernel's boot-time
# code patching, before anything else runs.
phase1_online_cpus() {
  for f in /sys/devices/system/cpu/cpu[0-9]*/online; do
    [ -e "$f" ] || continue
    [ "$(cat "$f")" = 1 ] || echo 1 >"$f" || fail "bring ${f%/online} online"
  done
}

# The command line's s3block.init=systemd selects the systemd mode.
systemd_mode() {
  case " $(cat /proc/cmdline) " in *" s3block.init=systemd "*) return 0 ;; esac
  return 1
}

phase1_load_9p() {
  # Order matters: busybox insmod does not resolve dependencies (netfs <- 9pnet <- 9p, 9pnet_virtio).
  for m in netfs 9pnet 9p 9pnet_virtio; do
    insmod "/lib/modules/$m.ko" || fail "insmod $m"
  done
}

phase1_mount_root() {
  mkdir -p /newroot
  mount -t 9p -o "ro,$P9_OPTS,cache=loose" hostroot /newroot || fail "mount the host root over 9p"
}

phase1_read_guest_conf() {
  # The systemd mode needs guest.conf (VM_STATE_*) before the root exists: read it from the per-run share, which
  # phase1_mount_shares mounts for good later.
  mkdir -p /vmrun
  mount -t 9p -o "ro,$P9_OPTS,cache=mmap" vmrun /vmrun || fail "mount the per-run folder"
  # shellcheck disable=SC1091  # written by run.sh for each run
  . /vmrun/guest.conf || fail "no guest.conf in the per-run folder"
  umount /vmrun
}

phase1_mount_state_disk() {
  # run.sh --state-disk: an ext4 image that holds the overlay's upper layer, so that what the guest writes to its root
  # (installed units, /etc, /var/lib) survives into the next boot with the same image, as on a machine's own disk. Its
  # modules (virtio_blk, ext4 and their dependencies, in order; decompressed by setup.sh) come from the host root.
  for m in $VM_STATE_MODULES; do
    insmod "/lower$m" || fail "insmod $m (state disk)"
  done
  dev=""
  for _ in $(seq 50); do
    for f in /sys/block/vd*/serial; do
      [ -r "$f" ] && [ "$(tr -d '\0\n' <"$f")" = "$VM_STATE_SERIAL" ] && dev="/dev/$(basename "$(dirname "$f")")"
    done
    [ -n "$dev" ] && [ -b "$dev" ] && break
    sleep 0.1
  done
  [ -n "$dev" ] || fail "no virtio disk with serial $VM_STATE_SERIAL (the state disk)"
  mount -t ext4 "$dev" /rw || fail "mount the state disk $dev"
  [ -e /rw/s3block-vm-booted ] && STATE_REBOOT=1
}

phase1_mount_root_overlay() {
  # overlay.ko is shipped uncompressed; its only users here are this mount and tests.
  insmod /lib/modules/overlay.ko || fail "insmod overlay"
  mkdir -p /lower /rw /newroot
  mount -t 9p -o "ro,$P9_OPTS,cache=loose" hostroot /lower || fail "mount the host root over 9p"
  if [ -n "${VM_STATE_SERIAL:-}" ]; then
    phase1_mount_state_disk
  else
    mount -t tmpfs -o mode=755 tmpfs /rw || fail "tmpfs for the overlay"
  fi
  mkdir -p /rw/upper /rw/work
  mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot \
    || fail "overlayfs over the host root"
}

phase1_systemd_places() {
  # The overlay is writable everywhere; systemd mounts /proc, /sys, /dev itself but keeps what is mounted already.
  # /run must be a tmpfs before the shares are mounted under it.
  mount -t devtmpfs devtmpfs /newroot/dev || fail "devtmpfs"
  mount --move /proc /newroot/proc || fail "move /proc"
  mount --move /sys /newroot/sys || fail "move /sys"
  mount_tmpfs /newroot/run 755
}

phase1_systemd_config() {
  E=/newroot/etc
  if [ "${STATE_REBOOT:-0}" = 1 ]; then
    # A second boot from the same state disk: /etc is as the last boot left it (the tests' installed and enabled
    # units, fstab, machine-id). Only the command's unit is new.
    phase1_systemd_command_unit
    return
  fi
  # A clean system: the host's /etc/systemd/system (its enabled services: databases, Ceph, timers ...), SysV scripts,
  # gettys and first-boot prompts would slow the boot or write to the console. Vendor units in /lib stay.
  rm -rf "$E/systemd/system" "$E/modules-load.d" "$E/rc2.d" "$E/rc3.d" "$E/rc4.d" "$E/rc5.d"
  mkdir -p "$E/systemd/system/multi-user.target.wants" "$E/systemd/system-generators" "$E/modules-load.d"
  for g in systemd-sysv-generator systemd-getty-generator systemd-gpt-auto-generator systemd-rc-local-generator \
    postgresql-generator; do
    ln -s /dev/null "$E/systemd/system-generators/$g"
  done
  # Masked: consoles and first-boot (would prompt), tmpfiles (most of a TCG boot, nothing here needs it), timers.
  for u in getty.target serial-getty@ttyS0.service systemd-firstboot.service systemd-tmpfiles-setup.service \
    systemd-tmpfiles-clean.timer systemd-tmpfiles-clean.service systemd-machine-id-commit.service \
    systemd-update-utmp.service systemd-update-utmp-runlevel.service systemd-pcrphase.service \
    systemd-pcrphase-sysinit.service systemd-repart.service systemd-binfmt.service \
    proc-sys-fs-binfmt_misc.automount timers.target; do
    ln -s /dev/null "$E/systemd/system/$u"
  done
  ln -s /lib/systemd/system/multi-user.target "$E/systemd/system/default.target"
  # Enabled on a stock Debian (systemd's postinst): fstab's _netdev mounts hang off it at boot.
  ln -s /lib/systemd/system/remote-fs.target "$E/systemd/system/multi-user.target.wants/remote-fs.target"
  # The console carries the command's output: no status lines there (systemd.show_status=0 is not always honoured).
  mkdir -p "$E/systemd/system.conf.d"
  printf '[Manager]\nShowStatus=no\n' >"$E/systemd/system.conf.d/s3block-vm.conf"
  echo "# written by tests/vm/guest-init.sh (systemd mode): the tests add their own lines" >"$E/fstab"
  echo s3block-vm >"$E/hostname"
  tr -d '-' </newroot/proc/sys/kernel/random/uuid >"$E/machine-id"
  # A container's marker in the host root would make systemd think it runs in a container (and skip udev & co.).
  rm -f /newroot/.dockerenv /newroot/run/.containerenv
  # The guest kernel's modules where kmod (systemd-modules-load, modprobe, kernel.modprobe) looks for them.
  kver="$(uname -r)"
  mkdir -p /newroot/usr/lib/modules
  rm -rf "/newroot/usr/lib/modules/$kver"
  ln -s "$VM_KERNEL_ROOT/lib/modules/$kver" "/newroot/usr/lib/modules/$kver"
  phase1_systemd_command_unit
  # Only now is the state disk's root set up: a boot that fails before here starts from scratch next time.
  [ -z "${VM_STATE_SERIAL:-}" ] || touch /rw/s3block-vm-booted
}

phase1_systemd_command_unit() {
  cat >"$E/systemd/system/s3block-vm-command.service" <<EOF
# Written by tests/vm/guest-init.sh: runs the command of tests/vm/run.sh --systemd, output on the console.
[Unit]
Description=tests/vm/run.sh command

[Service]
Type=simple
ExecStart=$BOOT_DIR/busybox sh $BOOT_DIR/init systemd-command
StandardInput=null
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/console
TTYReset=no
TTYVHangup=no
TimeoutStartSec=infinity
EOF
  ln -sf ../s3block-vm-command.service "$E/systemd/system/multi-user.target.wants/s3block-vm-command.service"
}

phase1_switch_root_systemd() {
  mkdir -p "/newroot$BOOT_DIR/bin"
  cp /bin/busybox /init "/newroot$BOOT_DIR/" || fail "copy busybox"
  # shellcheck disable=SC2093  # only reached again if switch_root fails
  exec switch_root /newroot /lib/systemd/systemd
  fail "switch_root to systemd"
}

phase1_writable_places() {
  # The host root is read-only. Give the usual scratch places a tmpfs so programs (dotnet, mkfs, fio,
  # a daemon's sockets and pid files) can write; /mnt is a tmpfs so tests can create mount points.
  mount -t devtmpfs devtmpfs /newroot/dev || fail "devtmpfs"
  mkdir -p /newroot/dev/pts /newroot/dev/shm
  mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /newroot/dev/pts || fail "devpts"
  mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm || fail "tmpfs on /dev/shm"
  mount --move /proc /newroot/proc || fail "move /proc"
  mount --move /sys /newroot/sys || fail "move /sys"
  # cgroup2 and debugfs are cheap and let tests look at block-layer/ublk state and limits.
  mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup 2>/dev/null || true
  mount -t debugfs debugfs /newroot/sys/kernel/debug 2>/dev/null || true
  mount_tmpfs /newroot/tmp 1777
  mount_tmpfs /newroot/var/tmp 1777
  mount_tmpfs /newroot/var/log 755
  mount_tmpfs /newroot/run 755
  mount_tmpfs /newroot/root 700
  mount_tmpfs /newroot/mnt 755
}

phase1_mount_shares() {
  has_9p_tag vmrun || fail "run.sh did not pass the per-run folder (9p tag vmrun)"
  mkdir -p "/newroot$RUN_DIR"
  mount -t 9p -o "rw,$P9_OPTS,cache=mmap" vmrun "/newroot$RUN_DIR" || fail "mount the per-run folder"
  [ -r "/newroot$RUN_DIR/guest.conf" ] || fail "no guest.conf in the per-run folder"
  # shellcheck disable=SC1090,SC1091  # written by run.sh for each run
  . "/newroot$RUN_DIR/guest.conf"

  # The repository, when it lies under one of the tmpfs places (run.sh passes it only then): read-only, at its
  # own path, and before the results share, which may lie inside it.
  if [ -n "${VM_REPO_HOST:-}" ] && has_9p_tag repo; then
    mkdir -p "/newroot$VM_REPO_HOST" || fail "no mount point for the repository at $VM_REPO_HOST"
    mount -t 9p -o "ro,$P9_OPTS,cache=loose" repo "/newroot$VM_REPO_HOST" || fail "mount the repository share"
  fi

  if has_9p_tag share; then
    mkdir -p "/newroot$SHARE_DIR"
    mount -t 9p -o "rw,$P9_OPTS,cache=mmap" share "/newroot$SHARE_DIR" || fail "mount the results share"
    # Also at the host's own path, so a path means the same thing on both sides. The host folder
    # exists in the read-only root, so it is a ready-made mount point, unless it lies under one of the
    # guest's tmpfs places (/tmp, /root, ...): there, create it.
    if [ -n "${VM_SHARE_HOST:-}" ]; then
      mkdir -p "/newroot$VM_SHARE_HOST" 2>/dev/null
      [ -d "/newroot$VM_SHARE_HOST" ] || fail "no mount point for the results share at $VM_SHARE_HOST"
      mount --bind "/newroot$SHARE_DIR" "/newroot$VM_SHARE_HOST" || fail "bind the results share"
    fi
  fi
}

phase1_network_and_name() {
  # No NIC (-nic none), but servers inside the guest (S3 on 127.0.0.1) need loopback up.
  ip link set lo up || fail "loopback up"
  hostname s3block-vm
}

phase1_switch_root() {
  mkdir -p "/newroot$BOOT_DIR/bin"
  cp /bin/busybox /init "/newroot$BOOT_DIR/" || fail "copy busybox"
  # kernel.modprobe and `modprobe` inside the guest both go through this wrapper: the host has no
  # /lib/modules for the guest kernel, so point kmod at the unpacked package with -d.
  cat >"/newroot$BOOT_DIR/bin/modprobe" <<EOF
#!/bin/sh
exec /sbin/modprobe -d '$VM_KERNEL_ROOT' "\$@"
EOF
  chmod 755 "/newroot$BOOT_DIR/bin/modprobe"
  # shellcheck disable=SC2093  # only reached again if switch_root fails
  exec switch_root /newroot "$BOOT_DIR/busybox" sh "$BOOT_DIR/init" stage2
  fail "switch_root"
}

stage2_prepare_kernel() {
  BB="$BOOT_DIR/busybox"
  # shellcheck disable=SC1090,SC1091  # written by run.sh for each run
  . "$RUN_DIR/guest.conf"
  echo "$BOOT_DIR/bin/modprobe" >/proc/sys/kernel/modprobe
  # VM_MODULES (from run.sh, see VM_GUEST_MODULES in common.sh): ublk_drv, loop, ext4, xfs, crc32c.
  # Anything else loads on demand, by the kernel itself (through kernel.modprobe) or by `modprobe`.
  # shellcheck disable=SC2086  # a list of module names
  if [ -n "$VM_MODULES" ]; then
    "$BOOT_DIR/bin/modprobe" -a $VM_MODULES || echo "[vm] WARNING: loading $VM_MODULES failed"
  fi
  # Distribution kernels may ship io_uring disabled (sysctl 2) or root-only (1); the daemon needs it.
  # The value found at boot is kept in $BOOT_DIR/io_uring_disabled.boot for the record.
  if [ -r /proc/sys/kernel/io_uring_disabled ]; then
    cat /proc/sys/kernel/io_uring_disabled >"$BOOT_DIR/io_uring_disabled.boot"
    if [ "$(cat /proc/sys/kernel/io_uring_disabled)" != 0 ]; then
      echo 0 >/proc/sys/kernel/io_uring_disabled
    fi
  fi
}

stage2_run_command() {
  echo "S3BLOCK-VM-START"
  # A clean environment: cmd.sh (written by run.sh) sets PATH, HOME, cwd and the rest itself.
  # stdin is /dev/null so a command that reads input cannot hang the run.
  "$BB" env -i /bin/bash "$RUN_DIR/cmd.sh" </dev/null
  rc=$?
  "$BB" dmesg >"$RUN_DIR/dmesg.txt" 2>/dev/null
  echo "$rc" >"$RUN_DIR/exit-code"
  # Leading newline: the command's last line may lack one, and the marker must start a line.
  printf '\nS3BLOCK-VM-EXIT=%s\n' "$rc"
}

systemd_run_command() {
  # The unit's ExecStart (systemd mode): like stage2_run_command, then a clean poweroff through systemd.
  BB="$BOOT_DIR/busybox"
  echo "S3BLOCK-VM-START"
  "$BB" env -i /bin/bash "$RUN_DIR/cmd.sh" </dev/null
  rc=$?
  "$BB" dmesg >"$RUN_DIR/dmesg.txt" 2>/dev/null
  echo "$rc" >"$RUN_DIR/exit-code"
  printf '\nS3BLOCK-VM-EXIT=%s\n' "$rc"
  "$BB" sync
  systemctl --no-block poweroff || "$BB" poweroff -f
}

stage2_power_off() {
  "$BB" sync
  "$BB" umount "$RUN_DIR" 2>/dev/null
  "$BB" poweroff -f
}

if [ "${1:-}" = systemd-command ]; then
  systemd_run_command
elif [ "${1:-}" = stage2 ]; then
  mark "switched root; loading modules"
  stage2_prepare_kernel
  mark "modules loaded; starting the command"
  stage2_run_command
  stage2_power_off
else
  export PATH=/bin
  phase1_early_mounts
  phase1_online_cpus
  mark "initramfs /init started"
  phase1_load_9p
  if systemd_mode; then
    phase1_read_guest_conf
    phase1_mount_root_overlay
    mark "host root mounted (overlay); starting systemd"
    phase1_systemd_places
    phase1_mount_shares
    phase1_systemd_config
    phase1_switch_root_systemd
  fi
  phase1_mount_root
  mark "host root mounted"
  phase1_writable_places
  phase1_mount_shares
  phase1_network_and_name
  phase1_switch_root
fi
