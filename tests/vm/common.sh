# shellcheck shell=bash disable=SC2034  # sourced; the variables are used by setup.sh and run.sh
# Shared settings of the VM test harness; sourced by setup.sh and run.sh (not executable on its own).
#
# The machines' own kernel has no ublk and cannot load modules, so ublk tests boot Debian's 6.12 kernel
# under qemu (TCG) with the host's root shared read-only over virtio-9p. See
# /work/shared/docs/test-environment.md for the measured facts behind these choices.

# Debian 6.12 is the oldest Debian kernel that builds ublk (6.1 has `# CONFIG_BLK_DEV_UBLK is not set`).
# Override with S3BLOCK_VM_KERNEL_VERSION to test another linux-image-* package (re-run setup.sh after).
VM_KERNEL_VERSION="${S3BLOCK_VM_KERNEL_VERSION:-6.12.117+deb12-amd64}"
VM_KERNEL_PACKAGE="linux-image-${VM_KERNEL_VERSION}"

VM_SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
VM_REPO_ROOT="$(cd -- "${VM_SCRIPT_DIR}/../.." && pwd)"

# The cache lives inside the repo (git-ignored), NOT under /tmp: the guest sees the host's / read-only,
# but its own /tmp is a tmpfs, so anything the guest must read has to live outside /tmp.
VM_CACHE_DIR="${VM_REPO_ROOT}/.cache/vm"
VM_KERNEL_ROOT="${VM_CACHE_DIR}/kernel-${VM_KERNEL_VERSION}"   # `dpkg -x` of the kernel package
VM_VMLINUZ="${VM_KERNEL_ROOT}/boot/vmlinuz-${VM_KERNEL_VERSION}"
# The bzImage's payload, decompressed by setup.sh: qemu boots this ELF through its PVH entry point, which
# skips the in-guest decompression and real-mode setup (about 3 s under TCG).
VM_VMLINUX="${VM_CACHE_DIR}/vmlinux-${VM_KERNEL_VERSION}"
VM_KERNEL_CONFIG="${VM_KERNEL_ROOT}/boot/config-${VM_KERNEL_VERSION}"
VM_INITRAMFS="${VM_CACHE_DIR}/initramfs-${VM_KERNEL_VERSION}.cpio"
VM_STAMP="${VM_CACHE_DIR}/ready-${VM_KERNEL_VERSION}"
VM_RUNS_DIR="${VM_CACHE_DIR}/runs"
VM_GUEST_INIT="${VM_SCRIPT_DIR}/guest-init.sh"

# Debian packages the harness needs on the host. The guest runs the HOST's binaries (shared root), so
# fio, mkfs.* and friends must be installed here, not in an image.
# dmsetup: the durability and power-cut tests stack device-mapper targets (linear, flakey, log-writes) on the state disk.
# systemd, systemd-sysv and udev: run.sh --systemd boots the host's systemd as the guest's PID 1, and without udev no
# /dev/disk/by-* or /dev/s3block/* links appear.
VM_HOST_PACKAGES=(qemu-system-x86 busybox-static cpio kmod xz-utils zstd fio e2fsprogs xfsprogs util-linux dmsetup
  systemd systemd-sysv udev)

# Modules the guest loads before the command runs: ublk itself and what tests stack on a block device.
# ext4/xfs pull their dependencies; crc32c (ext4 metadata checksums) is only requested at mount time.
VM_GUEST_MODULES=(ublk_drv loop ext4 xfs crc32c)
# Shipped .ko.xz are decompressed for these (and their dependencies) at setup: xz under TCG costs
# seconds per boot for xfs/ext4. The extra ones are handy for tests (null_blk/brd as reference
# devices, overlay) and load quickly when asked for with `modprobe`.
VM_DECOMPRESSED_MODULES=("${VM_GUEST_MODULES[@]}" null_blk brd overlay virtio_blk dm_log_writes dm_snapshot)

# Fingerprint of everything the cached artefacts are built from. run.sh compares it with the stamp that
# setup.sh writes, so an edited guest-init.sh or a new kernel version asks for setup.sh again instead of
# silently booting a stale initramfs.
vm_fingerprint() {
  {
    printf '%s\n' "${VM_KERNEL_VERSION}" "${VM_HOST_PACKAGES[*]}" "${VM_DECOMPRESSED_MODULES[*]}"
    cat -- "${VM_SCRIPT_DIR}/common.sh" "${VM_SCRIPT_DIR}/setup.sh" "${VM_GUEST_INIT}"
  } | sha256sum | cut -d' ' -f1
}

vm_log() {
  printf '[vm] %s\n' "$*" >&2
}

vm_die() {
  printf '[vm] ERROR: %s\n' "$*" >&2
  exit "${VM_DIE_STATUS:-1}"
}
