#!/usr/bin/env bash
# Benchmarks (release build): `scripts/bench.sh [vikunja_to_tw|tw_to_vikunja|reconcile|hook]`
# (default: all). They start real service processes, so the service binaries are built first,
# and the hook as users install it (`cargo build-hook`, statically linked).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
cargo build --release --locked -q -p webhook-ingress -p reconciler -p label-sync -p tw-watcher -p vsync-e2e --bins
cargo -q build-hook
# A copy: the hook bench's own (dynamic) build lands on target/release/vikunja-sync-hook.
mkdir -p target/bench-hook
cp target/release/vikunja-sync-hook target/bench-hook/
export VSYNC_HOOK_BIN="$PWD/target/bench-hook/vikunja-sync-hook"
hook() { BENCH_RUNS="${BENCH_RUNS:-200}" cargo bench --locked -q -p vikunja-sync-hook --bench hook_overhead; }
if [ $# -eq 0 ]; then
  cargo bench --locked -q -p vsync-e2e
  hook
else
  for b in "$@"; do
    if [ "$b" = hook ]; then hook; else cargo bench --locked -q -p vsync-e2e --bench "$b"; fi
  done
fi
