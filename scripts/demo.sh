#!/usr/bin/env bash
# The demo: starts its own nats-server, the Vikunja simulator, every service and two Taskwarrior
# sandboxes, creates a task in Vikunja and one in Taskwarrior, and shows each arriving everywhere
# with the measured latency. `vikunja-sync demo` runs the demo program (`vikunja-sync-demo`,
# integration-tests/demo) found next to it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
cargo build --release --locked -q -p vikunja-sync -p vikunja-sync-demo
cargo -q build-hook
exec target/release/vikunja-sync demo "$@"
