#!/usr/bin/env bash
# The README's test command: installs what the tests need, starts a real S3 server when none is configured,
# builds once, runs every test project, and prints one summary line "tests: N passed, N failed".
#
#   scripts/test.sh              # everything
#   scripts/test.sh Cache.Tests  # only the named test projects (by folder or assembly name)
#
# S3: when S3BLOCK_TEST_S3_ENDPOINT is set (e.g. http://localhost:4566 for LocalStack) the integration tests use it;
# otherwise this script installs Ceph RadosGW from Debian and runs it on loopback for the duration of the run.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
results="$repo/artifacts/test-results"
configuration=${CONFIGURATION:-Debug}
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '\n== %s\n' "$*"; }

# Test projects in the order they run: fast unit tests first, then real servers, then the kernel.
all_projects=(
  tests/Cache.Tests
  tests/S3Block.Tests
  tests/Ublk.Host.Tests
  tests/localstack
  tests/Vm.Tests
)

select_projects() {
  if [ $# -eq 0 ]; then
    for p in "${all_projects[@]}"; do [ -d "$p" ] && echo "$p"; done
    return
  fi
  for want in "$@"; do
    for p in "${all_projects[@]}"; do
      case "$p" in *"$want"*) echo "$p" ;; esac
    done
  done
}

needs() { printf '%s\n' "${projects[@]}" | grep -q "$1"; }

install_dependencies() {
  # The VM tests run RadosGW and Prometheus inside the guest, which sees the host's root read-only.
  if { needs localstack && [ -z "${S3BLOCK_TEST_S3_ENDPOINT:-}" ]; } || needs Vm.Tests; then
    log "installing the S3 server (Ceph RadosGW from Debian)"
    tests/localstack/radosgw.sh install
  fi
  if needs Ublk.Host.Tests || needs Vm.Tests; then
    log "installing systemd's tools (systemd-analyze, systemd-notify) for the unit-file and sd_notify tests"
    tests/systemd/install.sh
    if [ -x tests/metrics/install.sh ]; then
      log "installing Prometheus (promtool and the server) for the metrics tests"
      tests/metrics/install.sh
    fi
  fi
  if needs Vm.Tests && ! command -v gcc >/dev/null && ! command -v clang >/dev/null; then
    log "installing gcc (the linker of dotnet publish's ahead-of-time compile)"
    { apt-get update -qq && apt-get install -y -q gcc; } >/dev/null
  fi
  if needs Vm.Tests; then
    log "installing the VM test environment (qemu + Debian 6.12 kernel with ublk_drv)"
    tests/vm/setup.sh
  fi
}

s3_dir=""
start_s3() {
  if ! needs localstack || [ -n "${S3BLOCK_TEST_S3_ENDPOINT:-}" ]; then
    return
  fi
  s3_dir="$repo/.cache/radosgw-run"
  rm -rf "$s3_dir"
  log "starting RadosGW on loopback"
  tests/localstack/radosgw.sh start "$s3_dir" >/dev/null
  set -a
  # shellcheck disable=SC1091
  . "$s3_dir/env"
  set +a
  echo "S3 endpoint: $S3BLOCK_TEST_S3_ENDPOINT"
}

stop_s3() {
  if [ -n "$s3_dir" ]; then
    tests/localstack/radosgw.sh stop "$s3_dir" >/dev/null 2>&1 || true
    rm -rf "$s3_dir"
    s3_dir=""
  fi
}

# trx counters: <Counters total="N" executed="N" passed="N" failed="N" ... notExecuted="N" ...>
counter() { grep -o "$2=\"[0-9]*\"" "$1" | head -1 | grep -o '[0-9]*'; }

mapfile -t projects < <(select_projects "$@")
[ ${#projects[@]} -gt 0 ] || { echo "no test project matches: $*" >&2; exit 2; }

install_dependencies
trap stop_s3 EXIT
start_s3

log "building"
dotnet build S3Block.sln -c "$configuration" -warnaserror --nologo -v quiet
if needs Vm.Tests && [ -z "${S3BLOCK_BIN:-}" ]; then
  # The VM tests run the daemon as it ships (README: dotnet publish, Release, compiled ahead of time). Under the VM's
  # software emulation a start of the published daemon takes 4 s against 17-25 s for a JIT build, and the tests start
  # it well over a hundred times.
  log "publishing the daemon for the VM tests"
  rm -rf artifacts/publish
  dotnet publish src/Ublk.Host -c Release -o artifacts/publish -warnaserror --nologo -v quiet
  export S3BLOCK_BIN="$repo/artifacts/publish/s3block"
fi

rm -rf "$results"
mkdir -p "$results"
passed=0 failed=0 skipped=0 broken=()
for project in "${projects[@]}"; do
  name=$(basename "$project")
  log "testing $name"
  trx="$results/$name.trx"
  if ! dotnet test "$project" -c "$configuration" --no-build --nologo \
        --logger "trx;LogFileName=$trx" --logger "console;verbosity=normal" --results-directory "$results"; then
    broken+=("$name")
  fi
  if [ -f "$trx" ]; then
    passed=$((passed + $(counter "$trx" passed)))
    failed=$((failed + $(counter "$trx" failed)))
    skipped=$((skipped + $(counter "$trx" notExecuted)))
  else
    broken+=("$name (no results)")
  fi
  # Only the S3 integration tests use the host's RadosGW: give its CPU back to the VM tests.
  [ "$name" != localstack ] || stop_s3
done

log "summary"
[ ${#broken[@]} -eq 0 ] || echo "projects with failures: ${broken[*]}"
# A skipped test counts as a failure: every test must run here, and a skip prints its reason above.
[ "$skipped" -eq 0 ] || echo "skipped tests count as failures: $skipped"
echo "tests: $passed passed, $((failed + skipped)) failed"
[ ${#broken[@]} -eq 0 ] && [ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ]
