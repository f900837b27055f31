#!/usr/bin/env bash
# Installs the host tools that the VM tests run inside the guest (which sees the host's root read-only) beyond what
# tests/vm/setup.sh installs: dmsetup (device-mapper: dm-linear/dm-flakey over the guest's virtio disk in
# DaemonDurabilityTests). Kept out of tests/vm/common.sh so that adding a tool does not invalidate the VM cache.
set -euo pipefail

packages=()
{ command -v dmsetup || [ -x /usr/sbin/dmsetup ]; } >/dev/null || packages+=(dmsetup)
[ ${#packages[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null \
  || { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}"; }
