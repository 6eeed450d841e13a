#!/usr/bin/env python3
"""Offline checks of the observability files that have no checker of their own.

  ops_lint.py dashboard DASH.json OUT_RULES.yml
      Structure of a Grafana dashboard (uid, title, time range, unique panel ids, grid
      positions inside 24 columns, every query panel on the `${datasource}` variable with a
      refId and an expression) and writes every PromQL expression, Grafana variables replaced
      ($__rate_interval -> 5m, $var -> .*), as recording rules to OUT_RULES.yml so that
      `promtool check rules OUT_RULES.yml` parses them.
  ops_lint.py runbooks RULES.yml OPERATIONS.md
      Every alert has a severity, a summary, and a runbook_url pointing at a section of
      docs/operations.md that exists (GitHub anchor of a heading).
  ops_lint.py compose COMPOSE.yaml
      The local stack: every service has an image or a build, every bind-mounted file or
      folder exists, the fleet's services exist, and Prometheus/Grafana are provisioned;
      a service that mounts the library volume also mounts staging, and each acquisition
      volume is mounted where the service's settings say it is.

Exit 0 when the checks pass, 1 with one line per problem.
"""

import json
import os
import re
import sys

import yaml


def fail(problems, label):
    for p in problems:
        print(f"FAIL {label}: {p}")
    return 1 if problems else 0


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def promql_of(expr, variables):
    out = expr
    for interval in ("$__rate_interval", "${__rate_interval}", "$__interval", "${__interval}", "$__range", "${__range}"):
        out = out.replace(interval, "5m")
    for v in variables:
        out = out.replace("${%s}" % v, ".*").replace("$" + v, ".*")
    return out


def dashboard(path, out):
    problems = []
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    for key in ("uid", "title", "panels", "time", "schemaVersion"):
        if key not in d:
            problems.append(f"missing top-level '{key}'")
    if not {"from", "to"} <= set(d.get("time", {})):
        problems.append("time needs 'from' and 'to'")
    variables = [v["name"] for v in d.get("templating", {}).get("list", [])]
    if "datasource" not in variables:
        problems.append("no 'datasource' template variable (the dashboard must not hard-code a datasource uid)")
    ids = set()
    exprs = []
    for p in walk_panels(d.get("panels", [])):
        pid = p.get("id")
        title = p.get("title", "?")
        if pid in ids:
            problems.append(f"panel id {pid} used twice")
        ids.add(pid)
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in ("h", "w", "x", "y")):
            problems.append(f"panel '{title}': gridPos needs integer h, w, x, y")
        elif g["x"] < 0 or g["w"] < 1 or g["x"] + g["w"] > 24:
            problems.append(f"panel '{title}': gridPos outside the 24-column grid")
        if p.get("type") == "row":
            continue
        if p.get("datasource", {}).get("uid") != "${datasource}":
            problems.append(f"panel '{title}': datasource must be the ${{datasource}} variable")
        targets = p.get("targets", [])
        if not targets:
            problems.append(f"panel '{title}': no queries")
        for t in targets:
            if not t.get("refId") or not t.get("expr"):
                problems.append(f"panel '{title}': every target needs a refId and an expr")
                continue
            exprs.append((title, t["refId"], promql_of(t["expr"], variables)))
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        m = re.fullmatch(r"label_values\((.+),\s*\w+\)", q or "")
        if v.get("type") == "query":
            if not m:
                problems.append(f"variable '{v['name']}': expected label_values(<selector>, <label>), found {q!r}")
            else:
                exprs.append((f"variable {v['name']}", "var", promql_of(m.group(1), variables)))
    rules = {"groups": [{"name": "dashboard-promql", "rules": [
        {"record": f"dashboard:expr_{i}", "expr": e, "labels": {"panel": title[:60], "ref": ref}}
        for i, (title, ref, e) in enumerate(exprs)
    ]}]}
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump(rules, f, sort_keys=False)
    if not problems:
        print(f"ok   {path}: {len(ids)} panels, {len(exprs)} PromQL expressions written to {out}")
    return fail(problems, path)


def github_anchor(heading):
    a = heading.strip().lower()
    a = re.sub(r"[^\w\- ]", "", a)
    return a.replace(" ", "-")


def runbooks(rules_path, doc_path):
    problems = []
    with open(rules_path, encoding="utf-8") as f:
        rules = yaml.safe_load(f)
    with open(doc_path, encoding="utf-8") as f:
        anchors = {github_anchor(m.group(1)) for m in re.finditer(r"^#+\s+(.+)$", f.read(), re.M)}
    doc_name = os.path.relpath(doc_path, os.path.join(os.path.dirname(rules_path), "..", "..")).replace(os.sep, "/")
    alerts = 0
    for g in rules.get("groups", []):
        for r in g.get("rules", []):
            if "alert" not in r:
                continue
            alerts += 1
            name = r["alert"]
            ann = r.get("annotations", {})
            if not r.get("labels", {}).get("severity"):
                problems.append(f"{name}: no severity label")
            if not ann.get("summary"):
                problems.append(f"{name}: no summary annotation")
            url = ann.get("runbook_url", "")
            page, _, anchor = url.partition("#")
            if page != doc_name or not anchor:
                problems.append(f"{name}: runbook_url must be {doc_name}#<section>, found {url!r}")
            elif anchor not in anchors:
                problems.append(f"{name}: {doc_name} has no section with anchor #{anchor}")
            elif anchor != name.lower():
                problems.append(f"{name}: runbook anchor should be #{name.lower()}, found #{anchor}")
    if alerts == 0:
        problems.append("no alerts found")
    if not problems:
        print(f"ok   {rules_path}: {alerts} alerts, each with severity, summary and a runbook section in {doc_name}")
    return fail(problems, rules_path)


def compose(path):
    problems = []
    base = os.path.dirname(os.path.abspath(path))
    with open(path, encoding="utf-8") as f:
        c = yaml.safe_load(f)
    services = c.get("services", {})
    for required in (
        "postgres", "redis", "scheduler", "research-lead", "metadata-scout", "consolidator",
        "discovery-scout", "acquisition-scout", "quality-assessor", "prometheus", "grafana",
    ):
        if required not in services:
            problems.append(f"service '{required}' is missing")
    for name, s in services.items():
        if "image" not in s and "build" not in s:
            problems.append(f"service '{name}' has neither image nor build")
        b = s.get("build")
        if isinstance(b, dict):
            ctx = os.path.normpath(os.path.join(base, b.get("context", ".")))
            df = os.path.join(ctx, b.get("dockerfile", "Dockerfile"))
            if not os.path.isdir(ctx):
                problems.append(f"service '{name}': build context {ctx} does not exist")
            if not os.path.isfile(df):
                problems.append(f"service '{name}': Dockerfile {df} does not exist")
        for v in s.get("volumes", []):
            src = v.split(":", 1)[0] if isinstance(v, str) else v.get("source", "")
            if src.startswith(".") or src.startswith("/"):
                full = os.path.normpath(os.path.join(base, src))
                if not os.path.exists(full):
                    problems.append(f"service '{name}': mounted path {src} does not exist ({full})")
    # Acquisition volumes: named volume -> the setting naming where a service finds it.
    volume_setting = {
        "library": "CRATEDIGGER__ACQUISITION__LIBRARY_DIR",
        "staging": "CRATEDIGGER__ACQUISITION__STAGING_DIR",
        "slskd-downloads": "CRATEDIGGER__SOURCES__SOULSEEK__DOWNLOADS_DIR",
    }
    for name, s in services.items():
        env = s.get("environment", {}) or {}
        targets = {}
        for v in s.get("volumes", []):
            if isinstance(v, str):
                parts = v.split(":")
                if len(parts) >= 2:
                    targets[parts[0]] = parts[1]
            elif isinstance(v, dict):
                targets[v.get("source", "")] = v.get("target", "")
        if "library" in targets and "staging" not in targets:
            problems.append(f"service '{name}' mounts the library volume without staging")
        for vol, key in volume_setting.items():
            if vol in targets and isinstance(env, dict) and env.get(key) != targets[vol]:
                problems.append(f"service '{name}': volume {vol} is mounted at {targets[vol]} but {key} is {env.get(key)!r}")
    if not problems:
        print(f"ok   {path}: {len(services)} services, build and every mounted file present, acquisition volumes where the settings say")
    return fail(problems, path)


def main(argv):
    if len(argv) >= 1 and argv[0] == "dashboard" and len(argv) == 3:
        return dashboard(argv[1], argv[2])
    if len(argv) >= 1 and argv[0] == "runbooks" and len(argv) == 3:
        return runbooks(argv[1], argv[2])
    if len(argv) >= 1 and argv[0] == "compose" and len(argv) == 2:
        return compose(argv[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
