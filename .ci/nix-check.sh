#!/usr/bin/env bash
# Nix checks that run without network, KVM or a Nix store with nixpkgs in it:
#   1. every *.nix file parses            (nix-instantiate --parse)
#   2. the module's option docs: every option under services.vikunja-sync has a
#      description and a type             (lib.evalModules on nixpkgs' lib/)
#   2b. the module evaluation cases of integration-tests/nixos/eval-cases.nix (the
#      flake check module-eval, here on .ci/nix/stub-nixos.nix)
#   2c. the Grafana dashboards: valid JSON, every metric a query uses is one the
#      services describe, every panel links to Jaeger (.ci/check-dashboards.py)
#   2d. the NATS authorization the module renders, on a real nats-server: anonymous
#      refused, each host limited to its own subjects (.ci/check-bus-authorization.py)
#   3. ../shared/tools/nix-eval-check .   (flake outputs, the module's units, the VM
#      tests' nodes; evaluation only), when its inputs are in ~/.cache/nix-eval-check
# Building packages and running the VM tests needs a real Nix: `nix flake check`
# (see docs/NIXOS.md). Exit status: 0 ok (steps 2 and 3 may be skipped), 1 a failure.
set -uo pipefail

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null || (cd "$(dirname "$0")/.." && pwd))
cd "$root" || exit 1
cache=${NIX_EVAL_CACHE:-$HOME/.cache/nix-eval-check}
failures=0

# ---------------------------------------------------------------- 1. parse
if ! command -v nix-instantiate >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "nix-instantiate missing: installing Debian's nix-bin"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nix-bin >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nix-bin >/dev/null; }
  fi
fi
if ! command -v nix-instantiate >/dev/null; then
  echo "FAIL: nix-instantiate not found (apt-get install nix-bin)"
  exit 1
fi

echo "== 1. nix-instantiate --parse"
n=0
bad=0
while IFS= read -r -d '' f; do
  n=$((n + 1))
  if ! out=$(nix-instantiate --parse "$f" 2>&1 >/dev/null); then
    bad=$((bad + 1))
    echo "FAIL: $f"
    echo "$out" | head -5
  fi
done < <(find . \( -name .git -o -name target -o -name node_modules -o -name 'result*' \) -prune -o -name '*.nix' -type f -print0)
echo "$n file(s) parsed, $bad with errors"
[ "$bad" -eq 0 ] || failures=$((failures + 1))

# nixpkgs' lib/ needs Nix >= 2.18: the private Nix 2.26 of nix-eval-check
nix26_instantiate=$cache/nix-2.26/wrap/nix-instantiate
have_inputs=1
for d in nixpkgs-lib crane nix-2.26; do
  [ -e "$cache/$d" ] || have_inputs=0
done

# Evaluates (strict, JSON) the Nix expression $1 in a scope with `lib` (nixpkgs' lib/) and
# `evalConfig` (.ci/nix/stub-nixos.nix: NixOS configurations importing the module).
stub_eval() {
  "$nix26_instantiate" --eval --strict --json --expr "
let
  lib = import $cache/nixpkgs-lib/lib;
  evalConfig = import $root/.ci/nix/stub-nixos.nix { inherit lib; root = $root; };
in
$1"
}

# ---------------------------------------------------------------- 2. option docs
echo
echo "== 2. option docs of services.vikunja-sync"
if [ "$have_inputs" = 1 ] && [ -x "$nix26_instantiate" ] && [ -f "$cache/nixpkgs-lib/lib/default.nix" ]; then
  # The module evaluated with real lib/ and a free-form stand-in for the rest of NixOS
  # (.ci/nix/stub-nixos.nix); every option (including the per-user and per-host
  # submodules') must have a description and a declared type, and its documentation
  # must render.
  body=$(
    cat <<'EOF'
let
  eval = evalConfig [
    {
      services.vikunja-sync = {
        enable = true;
        taskwarrior.users.alice = { };
        server.nats.authorization.hosts.laptop.publicKey = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";
      };
    }
  ];
  docs = lib.optionAttrSetToDocList eval.options.services.vikunja-sync;
  visible = lib.filter (o: o.visible && !o.internal) docs;
  missing = map (o: o.name) (lib.filter (o: (o.description or null) == null || o.description == "" || o.type == "unspecified value") visible);
in
if missing != [ ] then throw "options without a description or type: ${lib.concatStringsSep ", " missing}"
else lib.concatMapStringsSep "\n" (o: "${o.name} : ${o.type}${lib.optionalString (o ? default) " = ${o.default.text or (builtins.toJSON o.default)}"}") visible
EOF
  )
  if out=$(stub_eval "$body" 2>&1); then
    printf '%b\n' "$(echo "$out" | sed -e 's/^"//' -e 's/"$//')" | sed 's/^/  /'
    echo "option docs: OK"
  else
    echo "FAIL: option docs"
    echo "$out" | tail -15
    failures=$((failures + 1))
  fi
else
  echo "SKIPPED option docs: inputs not present in $cache (see NIX.md)"
fi

# ---------------------------------------------------------------- 2b. module evaluation cases
echo
echo "== 2b. module evaluation cases (integration-tests/nixos/eval-cases.nix)"
if [ "$have_inputs" = 1 ] && [ -x "$nix26_instantiate" ] && [ -f "$cache/nixpkgs-lib/lib/default.nix" ]; then
  # The cases of the flake check `module-eval`, here without nixpkgs.
  body='map (c: (if c.ok then "ok   " else "FAIL ") + c.name + lib.optionalString (!c.ok) " -- ${c.detail}")
    (import '"$root"'/integration-tests/nixos/eval-cases.nix { inherit lib evalConfig; })'
  if out=$(stub_eval "$body" 2>&1); then
    lines=$(python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)))' <<<"$out")
    echo "$lines" | sed 's/^/  /'
    if grep -q '^FAIL' <<<"$lines"; then
      echo "FAIL: module evaluation cases"
      failures=$((failures + 1))
    fi
  else
    echo "FAIL: module evaluation cases do not evaluate"
    echo "$out" | tail -15
    failures=$((failures + 1))
  fi
else
  echo "SKIPPED module evaluation cases: inputs not present in $cache (see NIX.md)"
fi

# ---------------------------------------------------------------- 2c. dashboards
echo
echo "== 2c. Grafana dashboards (nixos-modules/dashboards)"
if ! python3 "$root/.ci/check-dashboards.py" "$root"; then
  echo "FAIL: dashboards"
  failures=$((failures + 1))
fi

# ---------------------------------------------------------------- 2d. bus authorization
echo
echo "== 2d. the rendered bus authorization on a real nats-server"
if [ "$have_inputs" = 1 ] && [ -x "$nix26_instantiate" ]; then
  python3 "$root/.ci/check-bus-authorization.py" "$nix26_instantiate" "$cache/nixpkgs-lib" "$root" | sed 's/^/  /'
  case "${PIPESTATUS[0]}" in
    0) echo "bus authorization: OK" ;;
    2) echo "SKIPPED bus authorization: needs nats-server and python3-cryptography" ;;
    *)
      echo "FAIL: bus authorization"
      failures=$((failures + 1))
      ;;
  esac
else
  echo "SKIPPED bus authorization: inputs not present in $cache (see NIX.md)"
fi

# ---------------------------------------------------------------- 3. nix-eval-check
echo
echo "== 3. nix-eval-check"
tool=""
for candidate in ${NIX_EVAL_CHECK:-} "$root/../shared/tools/nix-eval-check" "$(dirname "$0")/../../shared/tools/nix-eval-check" /work/shared/tools/nix-eval-check; do
  if [ -x "$candidate" ]; then
    tool=$candidate
    break
  fi
done
if [ -z "$tool" ]; then
  echo "SKIPPED nix-eval-check: ../shared/tools/nix-eval-check not found"
elif [ "$have_inputs" = 0 ]; then
  echo "SKIPPED nix-eval-check: inputs not present (see NIX.md)"
else
  project=.
  # Nix will not lock a dirty git work tree as a flake input: evaluate a copy of
  # the work tree's files (tracked and untracked, not ignored) instead.
  if [ -n "$(git status --porcelain 2>/dev/null)" ]; then
    project=$(mktemp -d /tmp/nix-check-src.XXXXXX)
    trap 'rm -rf "$project"' EXIT
    git ls-files -z --cached --others --exclude-standard |
      tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$project"
    echo "(uncommitted changes: evaluating a copy of the work tree in $project)"
  fi
  # packages the VM tests' nodes use that the tool's stub does not know by default (in the
  # stub every package exists; that they exist at the pinned nixpkgs is docs/NIXOS.md's
  # "Packages at the pinned nixpkgs")
  export NIX_EVAL_STUB_PKGS="${NIX_EVAL_STUB_PKGS:-jaeger}"
  report=$(mktemp /tmp/nix-eval-check-report.XXXXXX)
  "$tool" "$project" 2>&1 | tee "$report"
  if [ "${PIPESTATUS[0]}" -ne 0 ]; then
    failures=$((failures + 1))
  else
    # The tool counts a check its stub cannot evaluate as skipped, and would so hide a
    # failing case of `module-eval` (it throws). The acceptance configurations must have been
    # evaluated: module-eval's cases (a laptop with server.enable at its default, two users
    # on one machine, the server role with NATS authorization and Grafana) all held, and the
    # VM tests' nodes (e2e: server with NATS authorization, Jaeger and Grafana, laptop and
    # desk with server.enable at its default; module: two users on one machine) evaluated
    # without a failed assertion (the tool fails on those itself).
    before=$failures
    expect() {
      if ! grep -qE "$1" "$report"; then
        echo "FAIL: nix-eval-check did not show: $2"
        grep -E "^check ${3:-x}:" "$report" | cut -c1-400
        failures=$((failures + 1))
      fi
    }
    echo
    echo "== 3b. the acceptance configurations in nix-eval-check's output"
    expect '^check module-eval: (stub )?derivation' "every module-eval case holds" module-eval
    expect '^check e2e: nixosTest .*nodes: desk laptop server' "the e2e test's nodes evaluated" e2e
    expect '^  node server: .*grafana .*vikunja-sync-reconciler' "the server node with Grafana and the server role" e2e
    expect '^  node laptop: services \(beyond a bare config\): vikunja-sync-tw-setup@ vikunja-sync-tw-setup@alice vikunja-sync-tw-watcher@ vikunja-sync-tw-watcher@alice$' \
      "the laptop node runs only the watcher (server.enable at its default)" e2e
    expect '^check module: nixosTest .*nodes: machine' "the module test's node evaluated" module
    expect '^  node machine: .*vikunja-sync-tw-watcher@alice vikunja-sync-tw-watcher@bob' "two users' watchers on one machine" module
    if [ "$failures" -eq "$before" ]; then
      echo "module-eval cases held; e2e and module nodes evaluated: OK"
    fi
  fi
  rm -f "$report"
fi

echo
if [ "$failures" -eq 0 ]; then
  echo "nix-check: OK"
else
  echo "nix-check: $failures step(s) failed"
  exit 1
fi
