#!/usr/bin/env bash
# The whole test suite: unit tests and end-to-end tests against a real nats-server, real
# Taskwarrior and the Vikunja simulator. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
echo "nats-server $(nats-server --version 2>&1 | awk '{print $2}'), task $(TASKRC=/dev/null task _version 2>/dev/null || TASKRC=/dev/null task --version)" >&2
exec cargo test --workspace --locked "$@"
