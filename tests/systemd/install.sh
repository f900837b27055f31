#!/usr/bin/env bash
# Installs the systemd tools the Systemd tests run: systemd-analyze (verify/security of deploy/systemd/s3block@.service)
# and systemd-notify (the reference sd_notify sender). Both are in Debian's 'systemd' package. The tests only run these
# tools; systemd does not have to be running (containers and CI machines usually have no PID-1 systemd).
set -euo pipefail

if command -v systemd-analyze >/dev/null && command -v systemd-notify >/dev/null; then
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends systemd
