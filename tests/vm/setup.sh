#!/usr/bin/env bash
# Prepares everything tests/vm/run.sh needs to boot the ublk test VM:
#   - host packages (qemu, static busybox, fio, mkfs tools, ...) from Debian,
#   - Debian's 6.12 kernel package, unpacked into .cache/vm/ (git-ignored) with a modules.dep,
#   - a tiny initramfs: static busybox + the four 9p modules + tests/vm/guest-init.sh as /init.
# Idempotent: once the stamp matches the current inputs, a second run returns at once.
#
# Usage: tests/vm/setup.sh [--force]
# Needs root (apt-get) and network access to the Debian mirrors; the VM itself never has a network.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

FORCE=0

parse_args() {
  while (($#)); do
    case "$1" in
      --force) FORCE=1 ;;
      -h | --help) sed -n '2,10p' "${BASH_SOURCE[0]}"; exit 0 ;;
      *) vm_die "unknown argument: $1" ;;
    esac
    shift
  done
}

already_done() {
  # The fast path: nothing to do if the stamp matches and the artefacts and tools are still there
  # (a CI cache may restore .cache/ onto a machine without the packages).
  ((FORCE == 0)) || return 1
  [[ -f "${VM_STAMP}" && "$(cat -- "${VM_STAMP}")" == "$(vm_fingerprint)" ]] || return 1
  [[ -f "${VM_VMLINUX}" && -f "${VM_INITRAMFS}" ]] || return 1
  missing_packages >/dev/null && return 1
  return 0
}

missing_packages() {
  # Prints the packages that are not installed; succeeds only if there is at least one.
  local pkg missing=()
  for pkg in "${VM_HOST_PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Status}' "${pkg}" 2>/dev/null)" != installed ]]; then
      missing+=("${pkg}")
    fi
  done
  ((${#missing[@]})) || return 1
  printf '%s\n' "${missing[@]}"
}

APT_UPDATED=0
apt_update_once() {
  # Package lists on a fresh machine may be missing or too old for the security-updated kernel;
  # refresh them at most once per setup run.
  ((APT_UPDATED)) && return 0
  vm_log "apt-get update"
  apt-get update -qq
  APT_UPDATED=1
}

require_root() {
  [[ "$(id -u)" == 0 ]] || vm_die "setup.sh needs root (apt-get install, loop devices in the guest)"
}

install_host_packages() {
  local missing
  if ! missing="$(missing_packages)"; then
    return 0
  fi
  # shellcheck disable=SC2086  # one package per word
  set -- ${missing}
  vm_log "installing: $*"
  export DEBIAN_FRONTEND=noninteractive
  # Try with the current lists first (fast, no network round trip for the index); update on failure.
  if ! apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
    apt_update_once
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}

kernel_not_available() {
  # bookworm-security drops a kernel's ABI-versioned package once a newer one ships. Say what exists.
  vm_log "${VM_KERNEL_PACKAGE} is not available from the configured Debian mirrors (bookworm-security)."
  vm_log "6.12 kernels available now:"
  apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' | sed 's/^/[vm]   /' >&2 || true
  vm_die "set S3BLOCK_VM_KERNEL_VERSION (e.g. 6.12.NNN+deb12-amd64) or update VM_KERNEL_VERSION in tests/vm/common.sh"
}

fetch_kernel() {
  [[ -f "${VM_VMLINUZ}" && -d "${VM_KERNEL_ROOT}/lib/modules/${VM_KERNEL_VERSION}" ]] && return 0
  local dl="${VM_CACHE_DIR}/download"
  mkdir -p -- "${dl}"
  if ! compgen -G "${dl}/${VM_KERNEL_PACKAGE}_*.deb" >/dev/null; then
    vm_log "downloading ${VM_KERNEL_PACKAGE}"
    # apt-get download writes into the current directory. Run it as _apt's sandbox cannot write into
    # the repo, apt falls back to root and warns; the warning is harmless noise, so it is filtered.
    if ! (cd -- "${dl}" && apt-get download -qq "${VM_KERNEL_PACKAGE}" 2> >(grep -v 'unsandboxed' >&2)); then
      apt_update_once
      (cd -- "${dl}" && apt-get download -qq "${VM_KERNEL_PACKAGE}" 2> >(grep -v 'unsandboxed' >&2)) \
        || kernel_not_available
    fi
  fi
  vm_log "unpacking ${VM_KERNEL_PACKAGE}"
  # Unpack into a temporary sibling and rename, so an interrupted setup never leaves a half tree.
  rm -rf -- "${VM_KERNEL_ROOT}.tmp"
  dpkg -x "$(compgen -G "${dl}/${VM_KERNEL_PACKAGE}_*.deb" | head -n1)" "${VM_KERNEL_ROOT}.tmp"
  rm -rf -- "${VM_KERNEL_ROOT}"
  mv -- "${VM_KERNEL_ROOT}.tmp" "${VM_KERNEL_ROOT}"
}

generate_modules_dep() {
  # The .deb ships no modules.dep (the postinst normally runs depmod); `modprobe -d` needs one.
  [[ -f "${VM_KERNEL_ROOT}/lib/modules/${VM_KERNEL_VERSION}/modules.dep" ]] && return 0
  vm_log "depmod"
  depmod -b "${VM_KERNEL_ROOT}" "${VM_KERNEL_VERSION}"
}

strip_module_signature() {
  # A signed module ends with: signature | struct module_signature (12 bytes, sig_len = last 4, big
  # endian) | "~Module signature appended~\n" (28 bytes). Cut all three off. Verifying the RSA
  # signature costs ~0.3 s per module under TCG; an unsigned module still loads (no
  # CONFIG_MODULE_SIG_FORCE) and only sets taint flag E.
  local file="$1" magic='~Module signature appended~' size sig_len
  [[ "$(tail -c 28 -- "${file}" | head -c 27)" == "${magic}" ]] || return 0
  size="$(stat -c %s -- "${file}")"
  sig_len="$(tail -c 32 -- "${file}" | head -c 4 | od -An -tu1 | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')"
  truncate -s "$((size - 28 - 12 - sig_len))" -- "${file}"
}

decompress_modules() {
  # Replace .ko.xz by an unsigned .ko for the modules the guest loads (see VM_DECOMPRESSED_MODULES),
  # then refresh modules.dep so it names the new files. Idempotent: finished files are skipped.
  local line file changed=0
  while read -r line; do
    file="${line#insmod }"
    file="${file%% *}"
    case "${file}" in
      *.ko.xz)
        xz -d -- "${file}"
        strip_module_signature "${file%.xz}"
        changed=1
        ;;
      *.ko) strip_module_signature "${file}" ;;
    esac
  done < <(modprobe -d "${VM_KERNEL_ROOT}" -S "${VM_KERNEL_VERSION}" --show-depends -a \
    "${VM_DECOMPRESSED_MODULES[@]}" | grep '^insmod ' | sort -u)
  if ((changed)); then
    vm_log "decompressed the guest's modules; depmod"
    depmod -b "${VM_KERNEL_ROOT}" "${VM_KERNEL_VERSION}"
  fi
}

module_path() {
  # Path of a module's file inside the unpacked tree, from modules.dep (first field of its line).
  local name="$1" rel
  rel="$(grep -E "(^|/)${name}\.ko(\.xz|\.zst|\.gz)?:" \
    "${VM_KERNEL_ROOT}/lib/modules/${VM_KERNEL_VERSION}/modules.dep" | head -n1 | cut -d: -f1)"
  [[ -n "${rel}" ]] || vm_die "module ${name} not found in ${VM_KERNEL_PACKAGE}"
  printf '%s\n' "${VM_KERNEL_ROOT}/lib/modules/${VM_KERNEL_VERSION}/${rel}"
}

extract_vmlinux() {
  # Debian builds the kernel with CONFIG_KERNEL_ZSTD and CONFIG_PVH: the bzImage carries a zstd-compressed
  # ELF vmlinux with a PVH note. Cut it out at the zstd magic (28 b5 2f fd) and decompress it once here,
  # instead of letting every boot decompress 57 MB under TCG. zstd stops at the end of its frame, so the
  # trailing bzImage bytes are ignored (and reported as trailing garbage, hence the `|| true`).
  [[ -f "${VM_VMLINUX}" ]] && return 0
  local offset
  offset="$(LC_ALL=C grep -abo -m1 $'\x28\xb5\x2f\xfd' "${VM_VMLINUZ}" | head -n1 | cut -d: -f1)"
  [[ -n "${offset}" ]] || vm_die "no zstd payload in ${VM_VMLINUZ}; is CONFIG_KERNEL_ZSTD still set?"
  vm_log "extracting vmlinux (PVH boot)"
  tail -c "+$((offset + 1))" -- "${VM_VMLINUZ}" | zstd -dcq 2>/dev/null >"${VM_VMLINUX}.tmp" || true
  [[ "$(head -c 4 -- "${VM_VMLINUX}.tmp" | od -An -c | tr -d ' ')" == '177ELF' ]] \
    || vm_die "the payload of ${VM_VMLINUZ} is not an ELF vmlinux"
  mv -- "${VM_VMLINUX}.tmp" "${VM_VMLINUX}"
}

build_initramfs() {
  # Everything the guest needs before the host root is mounted: busybox, the 9p modules (decompressed,
  # since busybox insmod cannot read .ko.xz) and the init script. Uncompressed cpio: it is ~3 MB and
  # skipping decompression is quicker under TCG than reading fewer bytes.
  local stage="${VM_CACHE_DIR}/initramfs.tmp" mod src applet
  vm_log "building initramfs"
  rm -rf -- "${stage}"
  mkdir -p -- "${stage}"/{bin,dev,proc,sys,newroot,lib/modules}
  cp -- "$(command -v busybox)" "${stage}/bin/busybox"
  # Guard: a dynamically linked busybox would not run in an initramfs without libc.
  if ldd "${stage}/bin/busybox" >/dev/null 2>&1; then
    vm_die "$(command -v busybox) is not static; install busybox-static"
  fi
  for applet in $("${stage}/bin/busybox" --list); do
    [[ "${applet}" == busybox ]] || ln -s busybox "${stage}/bin/${applet}"
  done
  # overlay: the systemd mode's root (run.sh --systemd) is an overlayfs over the 9p share.
  for mod in netfs 9pnet 9p 9pnet_virtio overlay; do
    src="$(module_path "${mod}")"
    case "${src}" in
      *.xz) xz -dc -- "${src}" >"${stage}/lib/modules/${mod}.ko" ;;
      *.zst) zstd -dqc -- "${src}" >"${stage}/lib/modules/${mod}.ko" ;;
      *.gz) gzip -dc -- "${src}" >"${stage}/lib/modules/${mod}.ko" ;;
      *) cp -- "${src}" "${stage}/lib/modules/${mod}.ko" ;;
    esac
  done
  install -m 755 -- "${VM_GUEST_INIT}" "${stage}/init"
  (cd -- "${stage}" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"${VM_INITRAMFS}.tmp"
  mv -- "${VM_INITRAMFS}.tmp" "${VM_INITRAMFS}"
  rm -rf -- "${stage}"
}

write_stamp() {
  vm_fingerprint >"${VM_STAMP}"
}

main() {
  parse_args "$@"
  if already_done; then
    vm_log "VM prerequisites are up to date (${VM_KERNEL_VERSION})"
    return 0
  fi
  require_root
  mkdir -p -- "${VM_CACHE_DIR}"
  rm -f -- "${VM_STAMP}"
  install_host_packages
  fetch_kernel
  generate_modules_dep
  decompress_modules
  extract_vmlinux
  build_initramfs
  write_stamp
  vm_log "ready: kernel ${VM_VMLINUX#"${VM_REPO_ROOT}/"}, initramfs ${VM_INITRAMFS#"${VM_REPO_ROOT}/"}"
}

main "$@"
