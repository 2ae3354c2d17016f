#!/usr/bin/env python3
"""Checks the Grafana dashboards the NixOS module provisions (nixos-modules/dashboards/*.json):

- each file is valid JSON with a uid and panels;
- every metric a query uses is one the services describe: the names registered with
  `Metrics::describe("<name>", "<kind>", ...)` anywhere under crates/ and services/ (so moving
  code between crates or services changes nothing here), a `_bucket`/`_sum`/`_count` only of
  a described histogram, or one of the few metrics of tools the module runs itself (EXTERNAL);
- every query reads the provisioned Prometheus data source and every panel links to traces in
  the provisioned Jaeger data source.

Usage: check-dashboards.py [REPO_ROOT]; exit 0 when all hold, 1 otherwise.
"""

import json
import pathlib
import re
import sys

PROMETHEUS_UID = "vsync-prometheus"
JAEGER_UID = "vsync-jaeger"

# Metrics that come from programs the module runs next to ours, with where they come from.
EXTERNAL = {
    # prometheus-nats-exporter -jsz=all (services.prometheus.exporters.nats): collector/jsz.go
    "jetstream_consumer_num_pending": "prometheus-nats-exporter -jsz",
}

DESCRIBE = re.compile(
    r'describe\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"\s*,\s*"(counter|gauge|histogram|summary)"'
)
PROMQL_KEYWORDS = {
    "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
    "group_left", "group_right", "inf", "nan",
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def described_metrics(root):
    """{name: kind} of every metric the Rust code describes (test modules left out)."""
    found = {}
    for path in list(root.glob("crates/**/*.rs")) + list(root.glob("services/**/*.rs")):
        if "tests" in path.relative_to(root).parts or "target" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        text = text.split("#[cfg(test)]", 1)[0]
        for name, kind in DESCRIBE.findall(text):
            found[name] = kind
    return found


def metric_names(expr):
    """The metric names a PromQL expression reads."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    e = re.sub(r"\{[^}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # range selectors
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        token = m.group(0)
        if m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] in ".$"):
            continue  # part of a number (1e3) or a variable
        if e[m.end():].lstrip().startswith("("):
            continue  # a function
        if token.lower() in PROMQL_KEYWORDS:
            continue
        names.add(token)
    return names


def known(name, described):
    if name in described or name in EXTERNAL:
        return True
    for suffix in HISTOGRAM_SUFFIXES:
        base = name[: -len(suffix)]
        if name.endswith(suffix) and described.get(base) == "histogram":
            return True
    return False


def panels_of(dashboard):
    for p in dashboard.get("panels", []):
        yield p
        yield from p.get("panels", [])  # collapsed rows


def check(path, described):
    errors = []
    try:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        return [f"{path}: not valid JSON: {e}"]
    if not dashboard.get("uid"):
        errors.append(f"{path}: no uid")
    panels = [p for p in panels_of(dashboard) if p.get("type") != "row"]
    if not panels:
        errors.append(f"{path}: no panels")
    for p in panels:
        where = f"{path.name}: panel {p.get('title')!r}"
        targets = p.get("targets", [])
        if not targets:
            errors.append(f"{where}: no queries")
        for t in targets:
            if (t.get("datasource") or {}).get("uid") != PROMETHEUS_UID:
                errors.append(f"{where}: query {t.get('refId')} does not read {PROMETHEUS_UID}")
            for name in sorted(metric_names(t.get("expr", ""))):
                if not known(name, described):
                    errors.append(f"{where}: metric {name} is not described by any service")
        links = [link.get("url", "") for link in p.get("links", [])]
        if not any(JAEGER_UID in url for url in links):
            errors.append(f"{where}: no link to traces in {JAEGER_UID}")
    return errors


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    described = described_metrics(root)
    # a search that finds (almost) nothing means the code moved, not that all is well
    if len(described) < 5:
        print(f"FAIL: only {len(described)} described metrics found under crates/ and services/")
        return 1
    files = sorted((root / "nixos-modules" / "dashboards").glob("*.json"))
    if not files:
        print("FAIL: no dashboards in nixos-modules/dashboards")
        return 1
    errors = [e for f in files for e in check(f, described)]
    for e in errors:
        print(f"FAIL: {e}")
    queries = sum(len(p.get("targets", [])) for f in files for p in panels_of(json.loads(f.read_text())))
    print(f"{len(files)} dashboard(s), {queries} queries, {len(described)} described metrics: "
          + ("OK" if not errors else f"{len(errors)} problem(s)"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
