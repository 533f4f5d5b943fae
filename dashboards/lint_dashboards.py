#!/usr/bin/env python3
"""Checks the Grafana dashboards of cp-ha-sidecar (dashboards/*.json).

For every dashboard:
  - it is JSON, has a fixed uid (unique across the files) and a title;
  - schemaVersion is 37 to 39 (Grafana 10);
  - no "__inputs" and no "${DS_...}" import placeholders;
  - a template variable of type datasource, query prometheus;
  - every panel, every target, every query variable and every non-built-in
    annotation uses that variable as its datasource;
  - every panel has fieldConfig.defaults.unit set to a known Grafana unit;
  - panel ids are unique and every panel has a gridPos;
  - every range in every query is [$__rate_interval];
  - every query parses as PromQL: the Grafana variables are replaced
    ($__rate_interval by 1m, the others by a value of the variable) and the
    queries are fed to "promtool check rules" as recording rules.

Prints one line per check, "PASS: ..." or "FAIL: ...", for
check_dashboards.sh to count. Exit status: 0 when every check passed.

Usage: lint_dashboards.py DASHBOARDS_DIR PROMTOOL
"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile

# Grafana unit ids the dashboards may use (a typo would show raw numbers).
KNOWN_UNITS = {
    "none", "short", "percent", "percentunit", "s", "ms", "µs", "ns", "m",
    "h", "d", "dtdurations", "dthms", "ops", "reqps", "cps", "cpm", "opm",
    "bytes", "decbytes", "bool", "bool_yes_no", "bool_on_off", "dateTimeAsIso",
    "dateTimeFromNow",
}
RANGE = re.compile(r"\[([^\]]*)\]")
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*\w+\s*\)\s*$", re.S)
GRAFANA_INTERVALS = {"__rate_interval": "1m", "__interval": "1m",
                     "__range": "1h", "__range_s": "3600", "__interval_ms": "60000"}


class Checker:
    def __init__(self):
        self.results = []

    def check(self, ok, message):
        self.results.append(bool(ok))
        print(("PASS: " if ok else "FAIL: ") + message)


def all_panels(panels):
    """Panels in order, rows' nested panels included."""
    for panel in panels or []:
        yield panel
        yield from all_panels(panel.get("panels"))


def uses_datasource(ds, var):
    if not isinstance(ds, dict):
        return ds in ("$" + var, "${%s}" % var)
    return (ds.get("type") == "prometheus"
            and ds.get("uid") in ("$" + var, "${%s}" % var))


def substitute(expr, values):
    """Replaces Grafana variables by values PromQL can parse."""
    def repl(m):
        name = m.group(1) or m.group(2)
        if name in GRAFANA_INTERVALS:
            return GRAFANA_INTERVALS[name]
        return values.get(name, m.group(0))
    return VARIABLE.sub(repl, expr)


def variable_values(dashboard):
    values = {}
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("includeAll"):
            values[var["name"]] = var.get("allValue") or ".*"
        else:
            current = (var.get("current") or {}).get("value")
            values[var["name"]] = current if isinstance(current, str) and current else "x"
    return values


def check_dashboard(c, path, uids, queries):
    name = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        d = json.loads(text)
    except (OSError, ValueError) as e:
        c.check(False, "%s: is JSON (%s)" % (name, e))
        return
    c.check(isinstance(d, dict) and d.get("title"), "%s: is a JSON dashboard with a title" % name)

    uid = d.get("uid")
    ok = isinstance(uid, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,40}", uid or "")
    c.check(ok and uid not in uids, "%s: fixed unique uid %r" % (name, uid))
    uids.add(uid)

    version = d.get("schemaVersion")
    c.check(isinstance(version, int) and 37 <= version <= 39,
            "%s: schemaVersion %r is 37..39" % (name, version))

    c.check("__inputs" not in d and "${DS_" not in text and "__requires" not in d,
            "%s: no __inputs, __requires or ${DS_...} import placeholders" % name)

    variables = d.get("templating", {}).get("list", [])
    ds_vars = [v["name"] for v in variables
               if v.get("type") == "datasource" and v.get("query") == "prometheus"]
    c.check(len(ds_vars) == 1, "%s: one datasource variable of query prometheus (%s)"
            % (name, ", ".join(ds_vars) or "none"))
    if not ds_vars:
        return
    ds_var = ds_vars[0]
    values = variable_values(d)

    # Datasource everywhere.
    wrong = []
    for v in variables:
        if v.get("type") == "query" and not uses_datasource(v.get("datasource"), ds_var):
            wrong.append("variable " + v["name"])
    for a in d.get("annotations", {}).get("list", []):
        if not a.get("builtIn") and not uses_datasource(a.get("datasource"), ds_var):
            wrong.append("annotation " + a.get("name", "?"))
    panels = list(all_panels(d.get("panels")))
    for p in panels:
        if p.get("type") == "row":
            continue
        if not uses_datasource(p.get("datasource"), ds_var):
            wrong.append("panel %r" % p.get("title"))
        for t in p.get("targets", []):
            if "datasource" in t and not uses_datasource(t["datasource"], ds_var):
                wrong.append("panel %r target %s" % (p.get("title"), t.get("refId")))
    c.check(not wrong, "%s: every panel, target, query variable and annotation uses $%s%s"
            % (name, ds_var, "" if not wrong else ": not " + "; ".join(wrong)))

    # Units.
    missing = []
    for p in panels:
        if p.get("type") == "row":
            continue
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if unit not in KNOWN_UNITS:
            missing.append("%r (%r)" % (p.get("title"), unit))
    c.check(not missing, "%s: every panel sets a known unit%s"
            % (name, "" if not missing else ": not " + ", ".join(missing)))

    # Ids and layout.
    ids = [p.get("id") for p in panels]
    c.check(len(ids) == len(set(ids)) and None not in ids and all("gridPos" in p for p in panels),
            "%s: unique panel ids and a gridPos on every panel (%d panels)" % (name, len(panels)))

    # Queries: collect them with where they come from.
    found = []
    for p in panels:
        for t in p.get("targets", []):
            if t.get("expr"):
                found.append(("panel %r %s" % (p.get("title"), t.get("refId")), t["expr"]))
    for a in d.get("annotations", {}).get("list", []):
        if a.get("expr"):
            found.append(("annotation %r" % a.get("name"), a["expr"]))
    for v in variables:
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if v.get("type") == "query" and q:
            m = LABEL_VALUES.match(q)
            found.append(("variable %s" % v["name"], m.group(1) if m else q))
    c.check(found, "%s: has queries (%d)" % (name, len(found)))

    bad_ranges = []
    for where, expr in found:
        for r in RANGE.findall(expr):
            if r != "$__rate_interval":
                bad_ranges.append("%s [%s]" % (where, r))
        if re.search(r"\b(rate|irate|increase)\(", expr) and "$__rate_interval" not in expr:
            bad_ranges.append(where + " (rate without $__rate_interval)")
    c.check(not bad_ranges, "%s: every range is [$__rate_interval]%s"
            % (name, "" if not bad_ranges else ": not " + "; ".join(bad_ranges)))

    for where, expr in found:
        queries.append(("%s: %s" % (name, where), substitute(expr, values)))


def promtool_parses(promtool, exprs):
    """Runs promtool check rules on recording rules made of exprs."""
    lines = ["groups:", "  - name: dashboard-queries", "    rules:"]
    for i, expr in enumerate(exprs):
        lines.append("      - record: dashboard_query_%d" % i)
        lines.append("        expr: %s" % json.dumps(expr))
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    try:
        r = subprocess.run([promtool, "check", "rules", path],
                           capture_output=True, text=True)
        return r.returncode == 0, (r.stdout + r.stderr).strip()
    finally:
        os.unlink(path)


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    directory, promtool = sys.argv[1], sys.argv[2]
    c = Checker()
    files = sorted(glob.glob(os.path.join(directory, "*.json")))
    c.check(files, "dashboards found in %s (%d)" % (directory, len(files)))

    uids, queries = set(), []
    for path in files:
        check_dashboard(c, path, uids, queries)

    # One promtool run for all queries; on failure, one per query to name it.
    all_ok, _ = promtool_parses(promtool, [q for _, q in queries]) if queries else (True, "")
    for where, expr in queries:
        if all_ok:
            c.check(True, "%s parses" % where)
            continue
        ok, out = promtool_parses(promtool, [expr])
        detail = "" if ok else ": %s\n    %s" % (expr, out.splitlines()[-1] if out else "")
        c.check(ok, "%s parses%s" % (where, detail))

    return 0 if all(c.results) else 1


if __name__ == "__main__":
    sys.exit(main())
