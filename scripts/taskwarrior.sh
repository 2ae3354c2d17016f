#!/usr/bin/env bash
# `scripts/taskwarrior.sh 2|3` prints the path of a Taskwarrior `task` of that major version on
# stdout (messages go to stderr), installing one when there is none. The tests and benchmarks
# run both (scripts/test.sh, scripts/bench.sh). `--version <task>` prints what a `task` reports.
#   2: $TASK2_BIN; else `task` on PATH or /usr/bin/task when it is 2.x; else, as root,
#      `apt-get install taskwarrior` (Debian 12's 2.6.2).
#   3: $TASK3_BIN; else `task` on PATH when it is 3.x (inside `nix develop`: pkgs.taskwarrior3);
#      else the cached private install $VSYNC_TW3_PREFIX (default
#      ~/.cache/vikunja-sync/taskwarrior3); else that install is made: Debian unstable's
#      `taskwarrior` 3.x package and the libraries it needs, downloaded with apt from the
#      unstable suite of the Debian mirror this machine's apt already uses, unpacked into the
#      prefix and run by the wrapper <prefix>/bin/task through the prefix's own dynamic loader
#      (the host's glibc is older). A second run finds it and downloads nothing.
#      Taskwarrior 3.5 fails every command unless its `default.theme` is in its compiled-in
#      search path, so that one file is copied to /usr/share/taskwarrior/ (nothing else outside
#      the prefix is touched).
set -euo pipefail

say() { echo "taskwarrior.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# The version a `task` reports, with a throw-away TASKRC/TASKDATA (empty when it does not run).
task_version() {
  local tmp v
  tmp=$(mktemp -d)
  v=$(TASKRC=/dev/null TASKDATA="$tmp" "$1" _version 2>/dev/null | head -1) || v=
  rm -rf "$tmp"
  echo "$v"
}

# Prints $2 when it runs as Taskwarrior $1.x.
is_major() {
  [ -n "$2" ] || return 1
  case "$(task_version "$2")" in "$1".*) echo "$2" ;; *) return 1 ;; esac
}

major=${1:-}
case "$major" in
  2 | 3) ;;
  --version) # `scripts/taskwarrior.sh --version <task>`: the version it reports
    v=$(task_version "${2:?--version needs the path of a task}")
    [ -n "$v" ] || die "$2 does not run"
    echo "$v"
    exit 0
    ;;
  *) die "usage: $0 2|3 (or --version <task>)" ;;
esac

explicit_var=TASK${major}_BIN
if [ -n "${!explicit_var:-}" ]; then
  is_major "$major" "${!explicit_var}" || die "$explicit_var=${!explicit_var} does not run as Taskwarrior $major.x"
  exit 0
fi
is_major "$major" "$(command -v task 2>/dev/null || true)" && exit 0

if [ "$major" = 2 ]; then
  is_major 2 /usr/bin/task && exit 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Taskwarrior 2.6 with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq taskwarrior >/dev/null
    is_major 2 /usr/bin/task && exit 0
  fi
  die "no Taskwarrior 2.6 found: apt-get install taskwarrior (Debian 12), or set TASK2_BIN (nix develop sets it)"
fi

# ---------------------------------------------------------------- Taskwarrior 3: private prefix
prefix=${VSYNC_TW3_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/vikunja-sync/taskwarrior3}
wrapper=$prefix/bin/task
theme_dir=/usr/share/taskwarrior

cached() {
  [ -x "$wrapper" ] || return 1
  # The theme lives outside the prefix: put it back (from the prefix, no download) when missing.
  if [ ! -f "$theme_dir/default.theme" ]; then
    { mkdir -p "$theme_dir" && cp "$prefix/usr/share/taskwarrior/default.theme" "$theme_dir/"; } 2>/dev/null ||
      die "Taskwarrior 3.5 needs $theme_dir/default.theme: copy it there from $prefix/usr/share/taskwarrior/ (as root)"
  fi
  is_major 3 "$wrapper" >/dev/null
}

if cached; then echo "$wrapper"; exit 0; fi

mkdir -p "$(dirname "$prefix")"
exec 9>"$prefix.lock"
flock 9 # one install at a time; another may have finished it meanwhile
if cached; then echo "$wrapper"; exit 0; fi

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
  die "no Taskwarrior 3 found and no apt-get/dpkg-deb to install one: set TASK3_BIN (Nix: nix develop)"
[ "$(dpkg --print-architecture)" = amd64 ] ||
  die "the private install is made for amd64 only: set TASK3_BIN to a Taskwarrior 3 (Nix: nix develop)"
# The Debian mirror this machine's apt already uses (deb822 sources first, then one-line lists).
uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
if [ -z "$uri" ]; then
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" && /debian/ && !/security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }')
fi
[ -n "$uri" ] || die "no Debian mirror found in this machine's apt sources (set TASK3_BIN)"

work=$(mktemp -d)
staging=$prefix.new.$$
trap 'rm -rf "$work" "$staging"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
: >"$work/status" # an empty dpkg status: apt downloads every library the package needs
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri unstable main" >"$work/sources.list"
apt_opts=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o Dir::State::Status="$work/status"
  -o Debug::NoLocking=1)
[ "$(id -u)" = 0 ] && apt_opts+=(-o APT::Sandbox::User=root)
say "downloading Debian unstable's taskwarrior and its libraries from $uri into $prefix"
apt-get "${apt_opts[@]}" update -qq >&2 || die "apt-get update of the unstable lists failed"
apt-get "${apt_opts[@]}" install -y -qq --download-only --no-install-recommends \
  taskwarrior libc6 libgcc-s1 libstdc++6 libsqlite3-0 libuuid1 >/dev/null ||
  die "downloading taskwarrior and its libraries from unstable failed"

mkdir -p "$staging/bin"
for deb in "$work"/cache/archives/*.deb; do dpkg-deb -x "$deb" "$staging"; done
lib=$prefix/usr/lib/x86_64-linux-gnu
cat >"$staging/bin/task" <<EOF
#!/bin/sh
# Debian unstable's Taskwarrior 3 from a private prefix, run through the prefix's own loader and
# libraries (the host's glibc is older). Written by scripts/taskwarrior.sh.
exec '$lib/ld-linux-x86-64.so.2' --library-path '$lib' '$prefix/usr/bin/task' "\$@"
EOF
chmod +x "$staging/bin/task"
rm -rf "$prefix"
mv "$staging" "$prefix"
cached || die "the unpacked Taskwarrior 3 does not run: $wrapper"
say "installed Taskwarrior $(task_version "$wrapper"): $wrapper"
echo "$wrapper"
