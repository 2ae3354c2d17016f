# Sourced by scripts/test.sh and scripts/demo.sh: makes sure the programs the tests and the demo
# run for real are on PATH: nats-server (JetStream) and task (Taskwarrior). Inside `nix develop`
# they already are; on Debian/Ubuntu as root they are installed with apt-get.
# Debian installs nats-server in /usr/sbin, which a non-login shell may not have on PATH.
export PATH="$PATH:/usr/sbin:/sbin"

vsync_need=()
command -v nats-server >/dev/null 2>&1 || vsync_need+=(nats-server)
command -v task >/dev/null 2>&1 || vsync_need+=(taskwarrior)
if [ ${#vsync_need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${vsync_need[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${vsync_need[@]}" >/dev/null
  else
    echo "missing: ${vsync_need[*]}. Install them (Debian: apt-get install ${vsync_need[*]};" \
         "Nix: nix develop) or set NATS_SERVER_BIN / TASK_BIN." >&2
    exit 1
  fi
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo not found: install Rust (rustup) or use nix develop" >&2; exit 1; }
unset vsync_need
