#!/usr/bin/env bash
# Installs what bench/peer.sh runs besides S3Block, on the host (the test VM's root is the host's, read-only):
#   s3backer (Debian 1.5.4: an S3-backed file served over FUSE, the block-device peer), fuse3 (mount helpers and
#   /etc/fuse.conf), rclone (raw S3 PUT/GET, the reference for what the network and the S3 server allow).
# The S3 server (Ceph RadosGW) and the VM come from tests/localstack/radosgw.sh install and tests/vm/setup.sh.
# Idempotent: a no-op when the tools are on PATH. Needs root (apt-get) otherwise.
#
# Usage: bench/install.sh
set -euo pipefail

readonly PACKAGES=(s3backer rclone fuse3)
# Wait for the dpkg/apt locks instead of failing when another apt-get runs.
readonly APT_OPTS=(-q -o DPkg::Lock::Timeout=600)

log() { printf 'bench/install.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

if command -v s3backer >/dev/null && command -v rclone >/dev/null && command -v fusermount3 >/dev/null; then
  log "already installed: $(dpkg-query -W -f '${Package} ${Version}, ' "${PACKAGES[@]}" 2>/dev/null)"
  exit 0
fi

[[ $(id -u) -eq 0 ]] || die "installing ${PACKAGES[*]} needs root (run: sudo $0)"

apt_install() { DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${PACKAGES[@]}" >&2; }

# Update the package lists only when they lack a package, or when an install fails on stale lists.
if apt-cache policy "${PACKAGES[@]}" 2>/dev/null | grep -q 'Candidate: (none)'; then
  apt-get "${APT_OPTS[@]}" update >&2 || log "apt-get update reported errors (continuing)"
fi
if ! apt_install; then
  apt-get "${APT_OPTS[@]}" update >&2 || log "apt-get update reported errors (continuing)"
  apt_install || die "apt-get install ${PACKAGES[*]} failed"
fi

for tool in s3backer rclone fusermount3; do
  command -v "$tool" >/dev/null || die "$tool is still missing after installing ${PACKAGES[*]}"
done
log "installed: $(dpkg-query -W -f '${Package} ${Version}, ' "${PACKAGES[@]}")"
