#!/usr/bin/env bash
# Installs what the metrics tests need: Debian's `prometheus` package, which ships both the `prometheus` server
# (the tests start a throw-away one on loopback) and `promtool` (checks /metrics output and alerts.yml).
# Idempotent: a no-op when both binaries are already on PATH. Needs root (apt-get) otherwise.
#
# Usage: tests/metrics/install.sh
#
# The package also ships a system-wide prometheus.service. The tests never use it (they run their own server on
# loopback with storage in a temporary folder), so this script keeps the install from starting it and disables it:
# installing test tools must not leave a Prometheus listening on :9090, now or after a reboot.
set -euo pipefail

readonly PACKAGES=(prometheus)
# Wait for the dpkg/apt locks instead of failing when another apt-get runs (e.g. a parallel CI step).
readonly APT_OPTS=(-q -o DPkg::Lock::Timeout=600)

log() { printf 'metrics/install.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
  log "already installed: $(promtool --version 2>&1 | head -1)"
  exit 0
fi

[[ $(id -u) -eq 0 ]] || die "installing ${PACKAGES[*]} needs root (run: sudo $0)"

apt_install() {
  # policy-rc.d exit 101 = "do not start services": the package's postinst must not launch a system-wide
  # Prometheus on :9090 (on a machine without systemd this is a no-op anyway).
  local policy=/usr/sbin/policy-rc.d created=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${PACKAGES[@]}" >&2 || rc=$?
  [[ $created -eq 0 ]] || rm -f "$policy"
  return $rc
}

# Update the package lists only when they lack the package, or when an install fails on stale lists.
if ! apt-cache policy "${PACKAGES[@]}" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  apt-get "${APT_OPTS[@]}" update >&2 || log "apt-get update reported errors (continuing)"
fi
if ! apt_install; then
  apt-get "${APT_OPTS[@]}" update >&2 || log "apt-get update reported errors (continuing)"
  apt_install || die "apt-get install ${PACKAGES[*]} failed"
fi

# Only reached when we just installed the package, so the unit is ours to disable (offline too: it removes the
# enablement symlinks even where systemd does not run, e.g. in a container).
if command -v systemctl >/dev/null; then
  now=()
  [[ ! -d /run/systemd/system ]] || now=(--now)
  systemctl disable "${now[@]}" prometheus.service >&2 || log "could not disable prometheus.service (continuing)"
fi

command -v promtool >/dev/null || die "promtool is still missing after installing ${PACKAGES[*]}"
command -v prometheus >/dev/null || die "prometheus is still missing after installing ${PACKAGES[*]}"
log "installed: $(promtool --version 2>&1 | head -1)"
