#!/usr/bin/env bash
# Benchmarks (release build): `scripts/bench.sh [vikunja_to_tw|tw_to_vikunja|reconcile|hook|apply|scale]`
# (default: all but `scale`, which takes ~15 min: 10,000 tasks, bursts, idle minutes; its plots go
# to docs/bench/). `apply` (one apply's cost by database size, per backend) runs on 3.x only. They start real service processes, so the service binaries are built first,
# and the hook as users install it (`cargo build-hook`, statically linked).
# Each runs on Taskwarrior 2.6 and then on 3.x (scripts/taskwarrior.sh finds or installs them;
# every run measures its own `task import` floor); VSYNC_TW=2 or VSYNC_TW=3 runs one only.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
case "${VSYNC_TW:-both}" in
  2 | 3) versions=("$VSYNC_TW") ;;
  both) versions=(2 3) ;;
  *) echo "VSYNC_TW must be 2, 3 or both" >&2; exit 2 ;;
esac
# The scale benchmark's plots (cargo runs a bench in its package's directory).
export BENCH_PLOT_DIR="${BENCH_PLOT_DIR:-$PWD/docs/bench}"
tw_bins=()
for v in "${versions[@]}"; do tw_bins+=("$(scripts/taskwarrior.sh "$v")"); done
cargo build --release --locked -q -p webhook-ingress -p reconciler -p label-sync -p tw-watcher -p vsync-e2e --bins
cargo -q build-hook
# A copy: the hook bench's own (dynamic) build lands on target/release/vikunja-sync-hook.
mkdir -p target/bench-hook
cp target/release/vikunja-sync-hook target/bench-hook/
export VSYNC_HOOK_BIN="$PWD/target/bench-hook/vikunja-sync-hook"
hook() { BENCH_RUNS="${BENCH_RUNS:-200}" cargo bench --locked -q -p vikunja-sync-hook --bench hook_overhead; }
apply() {
  case "$(scripts/taskwarrior.sh --version "$TASK_BIN")" in
    3.*) cargo bench --locked -q -p vsync-taskwarrior --bench apply_cost ;;
    *) echo "apply: Taskwarrior 3 only" ;;
  esac
}
for TASK_BIN in "${tw_bins[@]}"; do
  export TASK_BIN
  echo "== Taskwarrior $(scripts/taskwarrior.sh --version "$TASK_BIN") ($TASK_BIN)"
  if [ $# -eq 0 ]; then
    cargo bench --locked -q -p vsync-e2e --bench vikunja_to_tw --bench tw_to_vikunja --bench reconcile
    hook
    apply
  else
    for b in "$@"; do
      case "$b" in
        hook) hook ;;
        apply) apply ;;
        *) cargo bench --locked -q -p vsync-e2e --bench "$b" ;;
      esac
    done
  fi
done
