#!/usr/bin/env bash
# Benchmarks (release build): `scripts/bench.sh [vikunja_to_tw|tw_to_vikunja|reconcile]` (default:
# all). They start real service processes, so the service binaries are built first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
cargo build --release --locked -q -p webhook-ingress -p reconciler -p label-sync -p tw-watcher -p vsync-e2e --bins
if [ $# -eq 0 ]; then
  exec cargo bench --locked -q -p vsync-e2e
else
  for b in "$@"; do cargo bench --locked -q -p vsync-e2e --bench "$b"; done
fi
