#!/usr/bin/env bash
# The whole test suite: unit tests and end-to-end tests against a real nats-server, real
# Taskwarrior and the Vikunja simulator, on Taskwarrior 2.6 and on Taskwarrior 3.x:
#   2.6: every test of the workspace;
#   3.x: every package whose tests run `task` (TW3_PACKAGES: the end-to-end suite, the
#        Taskwarrior driver, the hook, tw-watcher).
# scripts/taskwarrior.sh finds or installs each version (TASK2_BIN / TASK3_BIN override). Tests
# named `*_tw26` hold on 2.6 only and `*_tw3` on 3.x only: each run skips the other's by name
# and lists them. VSYNC_TW=2 or VSYNC_TW=3 runs one version only. Extra arguments go to
# `cargo test` (after `--`: to the test binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh

TW3_PACKAGES=(-p vsync-e2e -p vsync-taskwarrior -p vikunja-sync-hook -p tw-watcher)

cargo_args=()
test_args=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do cargo_args+=("$1"); shift; done
[ $# -gt 0 ] && shift && test_args=("$@")

# The tests that hold on one version only, from their names (`fn name_tw26(`).
only_on() {
  grep -rhoE "fn [a-z0-9_]+_$1\(" --include='*.rs' crates services integration-tests proto |
    sed 's/^fn //; s/($//' | sort -u | tr '\n' ' '
}

# The end-to-end tests start this build's programs (target/debug/<name>: the services,
# `vikunja-sync up`); `cargo test` builds a package's binaries only for its own integration tests.
cargo build --workspace --bins --locked -q

nats_version=$(nats-server --version 2>&1 | awk '{print $2}')
status=0
summary=()
run() { # run <major> <other version's suffix> <cargo selection...>
  local major=$1 skip=$2 bin version start rc
  shift 2
  bin=$(scripts/taskwarrior.sh "$major")
  version=$(scripts/taskwarrior.sh --version "$bin")
  echo "== Taskwarrior $version ($bin), nats-server $nats_version: cargo test $*" >&2
  echo "   skipped here (named *_$skip, another version's): $(only_on "$skip")" >&2
  start=$(date +%s)
  rc=0
  TASK_BIN=$bin cargo test --locked "$@" ${cargo_args[@]+"${cargo_args[@]}"} \
    -- --skip "_$skip" ${test_args[@]+"${test_args[@]}"} || rc=$?
  if [ "$rc" = 0 ]; then
    summary+=("Taskwarrior $version: ok ($(($(date +%s) - start)) s)")
  else
    summary+=("Taskwarrior $version: FAILED ($(($(date +%s) - start)) s)")
    status=$rc
  fi
}

case "${VSYNC_TW:-both}" in
  2) run 2 tw3 --workspace ;;
  3) run 3 tw26 "${TW3_PACKAGES[@]}" ;;
  both)
    run 2 tw3 --workspace
    run 3 tw26 "${TW3_PACKAGES[@]}"
    ;;
  *) echo "VSYNC_TW must be 2, 3 or both" >&2; exit 2 ;;
esac
printf '%s\n' "${summary[@]}" >&2
exit "$status"
