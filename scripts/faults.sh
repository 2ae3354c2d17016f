#!/usr/bin/env bash
# The fault suite (integration-tests/e2e/tests/it/faults/) on Taskwarrior 2.6 and 3.x, with the
# long cases at full length (VSYNC_FAULTS_FULL=1: e.g. Vikunja answering 503 and 429 for three
# minutes, where ./scripts/test.sh runs them compressed), then docs/FAULTS.md from what the
# cases measured: each case appends one JSON line to $VSYNC_FAULTS_OUT, pass or fail, and the
# table is made of those lines only. VSYNC_TW=2 or VSYNC_TW=3 runs one version; an argument
# runs only the cases whose name contains it (the table then has only those).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh

out=$(mktemp --suffix=.jsonl)
trap 'rm -f "$out"' EXIT
export VSYNC_FAULTS_OUT=$out VSYNC_FAULTS_FULL=1
cargo build --workspace --bins --locked -q

case "${VSYNC_TW:-both}" in
  2) versions=(2) ;;
  3) versions=(3) ;;
  both) versions=(2 3) ;;
  *) echo "VSYNC_TW must be 2, 3 or both" >&2; exit 2 ;;
esac
status=0
for major in "${versions[@]}"; do
  bin=$(scripts/taskwarrior.sh "$major")
  skip=tw3; [ "$major" = 3 ] && skip=tw26
  echo "== fault suite on Taskwarrior $(scripts/taskwarrior.sh --version "$bin")" >&2
  TASK_BIN=$bin cargo test --locked -p vsync-e2e --test it -- --skip "_$skip" \
    "faults::${1:-}" || status=$?
done
cargo run -q --locked -p vsync-e2e --bin faults-table -- "$out" > docs/FAULTS.md
echo "docs/FAULTS.md: $(grep -cE '\| (pass|\*\*FAIL\*\*) \|$' docs/FAULTS.md) case(s)" >&2
exit "$status"
