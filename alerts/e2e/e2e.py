#!/usr/bin/env python3
"""Helpers of alerts/e2e_test.sh (python3 standard library; PyYAML, which
alerts/test_rules.sh already requires, only to read and write rule files).

Subcommands (every check prints one "PASS: ..." or "FAIL: ..." line for the
shell script to count; other lines are information):

  ports N
      N free TCP ports on 127.0.0.1, one per line.
  receiver PORT LOG
      Alertmanager webhook receiver: appends every alert of every
      notification to LOG, one JSON object a line, numbered by "seq".
  shorten-rules DIVISOR MIN_SECONDS OUT SRC...
      Writes a copy of the rule files SRC... to OUT (one file, groups
      concatenated) with every alert's "for" divided by DIVISOR (at least
      MIN_SECONDS, or 0 when it was 0); recording rules and everything else
      unchanged. Prints the table of changes.
  http-wait URL TIMEOUT [STATUS]
      Polls URL until it answers (with STATUS when given).
  leader TIMEOUT PORT...
      Prints the index (1-based) of the sidecar that is write-ready
      (GET /v1/health/write-ready answers 200), waiting up to TIMEOUT s.
  prom-wait PROM_URL TIMEOUT QUERY
      Polls an instant query until it returns a non-empty result.
  wait-alert LOG TIMEOUT AFTER_SEQ ALERTNAME STATUS [options]
      Waits for an alert ALERTNAME with status STATUS (firing|resolved)
      received with seq > AFTER_SEQ whose labels match every --label K=V,
      then checks it: labels alertname, severity (--severity), job;
      annotations summary, description, runbook_url non-empty and free of
      template errors; --contains TEXT in the description. Prints what was
      received on failure.
  last-seq LOG
      The highest seq in LOG (0 when empty).
  prom-none PROM_URL QUERY
      Succeeds when an instant query returns nothing; prints it otherwise.
  prom-am-wait PROM_URL TIMEOUT
      Polls until Prometheus has discovered an Alertmanager.
  prom-rules-wait PROM_URL RULES_FILE TIMEOUT
      Polls until Prometheus has loaded exactly the rules of RULES_FILE.
  prom-health PROM_URL RULES_FILE
      Prometheus loaded exactly the rules of RULES_FILE, every rule's last
      evaluation is healthy, and over the whole run no rule evaluation
      failed and no notification to Alertmanager was dropped or failed
      (Prometheus' own counters, read from its /metrics).
  dashboards PROM_URL DASH_DIR TIMEOUT
      Runs every panel query of every dashboard against PROM_URL (see
      check_dashboards()).
"""

import json
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def say(ok, message):
    print(("PASS: " if ok else "FAIL: ") + message, flush=True)
    return ok


# --------------------------------------------------------------------------
# ports

def cmd_ports(n):
    socks = []
    try:
        for _ in range(int(n)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        for s in socks:
            print(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return 0


# --------------------------------------------------------------------------
# receiver

def cmd_receiver(port, log_path):
    state = {"seq": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok\n")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            try:
                payload = json.loads(body)
            except ValueError:
                self.send_response(400)
                self.end_headers()
                return
            now = time.time()
            with open(log_path, "a", encoding="utf-8") as log:
                for alert in payload.get("alerts", []):
                    state["seq"] += 1
                    log.write(json.dumps({
                        "seq": state["seq"],
                        "received_at": now,
                        "receiver": payload.get("receiver"),
                        "status": alert.get("status"),
                        "labels": alert.get("labels", {}),
                        "annotations": alert.get("annotations", {}),
                        "startsAt": alert.get("startsAt"),
                        "endsAt": alert.get("endsAt"),
                    }, sort_keys=True) + "\n")
                log.flush()
            self.send_response(200)
            self.end_headers()

    open(log_path, "a").close()
    server = ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
    server.serve_forever()


# --------------------------------------------------------------------------
# shorten-rules

DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?"
                      r"(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
UNIT_SECONDS = [365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001]


def parse_duration(text):
    m = DURATION.match(str(text).strip())
    if not m or not any(m.groups()):
        raise ValueError("not a Prometheus duration: %r" % text)
    return sum(int(g) * u for g, u in zip(m.groups(), UNIT_SECONDS) if g)


def cmd_shorten_rules(divisor, min_seconds, out, *sources):
    import yaml  # PyYAML, as in alerts/test_rules.sh

    divisor, min_seconds = float(divisor), int(min_seconds)
    merged = {"groups": []}
    alerts = records = 0
    for src in sources:
        with open(src, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                if "record" in rule:
                    records += 1
                    continue
                alerts += 1
                old = parse_duration(rule.get("for", "0s"))
                new = 0 if old == 0 else max(min_seconds, int(old / divisor))
                rule["for"] = "%ds" % new
                print("    %-36s for %5ds -> %ds" % (rule["alert"], old, new))
            merged["groups"].append(group)
    with open(out, "w", encoding="utf-8") as f:
        f.write("# Generated by alerts/e2e/e2e.py shorten-rules from %s;\n"
                "# only the alerts' \"for\" differs. Do not edit.\n"
                % ", ".join(os.path.basename(s) for s in sources))
        yaml.safe_dump(merged, f, sort_keys=False, width=1000)
    print("    %d alerts shortened, %d recording rules kept" % (alerts, records))
    return 0


# --------------------------------------------------------------------------
# HTTP helpers

def http_get(url, timeout=2.0):
    """(status, body) or (None, error text)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return None, str(e)


def cmd_http_wait(url, timeout, status=None):
    deadline = time.time() + float(timeout)
    while True:
        code, body = http_get(url)
        if code is not None and (status is None or code == int(status)):
            return 0
        if time.time() > deadline:
            print("http-wait: %s: %s %s" % (url, code, body[:200]),
                  file=sys.stderr)
            return 1
        time.sleep(0.2)


def cmd_leader(timeout, *ports):
    deadline = time.time() + float(timeout)
    while True:
        ready = [i + 1 for i, p in enumerate(ports)
                 if http_get("http://127.0.0.1:%s/v1/health/write-ready"
                             % p)[0] == 200]
        if len(ready) == 1:
            print(ready[0])
            return 0
        if time.time() > deadline:
            print("leader: write-ready sidecars after %ss: %s"
                  % (timeout, ready or "none"), file=sys.stderr)
            return 1
        time.sleep(0.2)


def prom_query(prom, query):
    """(ok, result list or error text) of an instant query."""
    url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    code, body = http_get(url, timeout=10)
    try:
        doc = json.loads(body)
    except ValueError:
        return False, "HTTP %s: %s" % (code, body[:200])
    if doc.get("status") != "success":
        return False, "%s: %s" % (doc.get("errorType"), doc.get("error"))
    data = doc["data"]
    if data["resultType"] in ("scalar", "string"):
        return True, [{"metric": {}, "value": data["result"]}]
    return True, data["result"]


def cmd_prom_wait(prom, timeout, query):
    deadline = time.time() + float(timeout)
    while True:
        ok, result = prom_query(prom, query)
        if ok and result:
            return 0
        if time.time() > deadline:
            print("prom-wait: %s: %s" % (query, result), file=sys.stderr)
            return 1
        time.sleep(0.5)


def cmd_prom_none(prom, query):
    ok, result = prom_query(prom, query)
    if ok and not result:
        return 0
    print("    %s: %s" % (query, result if not ok else
                          [r["metric"] for r in result]))
    return 1


def cmd_prom_am_wait(prom, timeout):
    deadline = time.time() + float(timeout)
    while True:
        code, body = http_get(prom + "/api/v1/alertmanagers")
        try:
            active = json.loads(body)["data"]["activeAlertmanagers"]
        except (ValueError, KeyError, TypeError):
            active = []
        if active:
            print("    alertmanagers: %s" % [a.get("url") for a in active])
            return 0
        if time.time() > deadline:
            print("prom-am-wait: %s %s" % (code, body[:200]), file=sys.stderr)
            return 1
        time.sleep(0.5)


def rule_names(rules_file):
    import yaml
    with open(rules_file, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return sorted(r.get("alert") or r.get("record")
                  for g in doc.get("groups") or [] for r in g["rules"])


def loaded_rules(prom):
    code, body = http_get(prom + "/api/v1/rules", timeout=10)
    try:
        groups = json.loads(body)["data"]["groups"]
    except (ValueError, KeyError, TypeError):
        return None
    return [r for g in groups for r in g["rules"]]


def cmd_prom_rules_wait(prom, rules_file, timeout):
    want = rule_names(rules_file)
    deadline = time.time() + float(timeout)
    while True:
        loaded = loaded_rules(prom)
        got = sorted(r["name"] for r in loaded or [])
        if got == want:
            return 0
        if time.time() > deadline:
            print("prom-rules-wait: want %d rules, loaded %s"
                  % (len(want), got), file=sys.stderr)
            return 1
        time.sleep(0.2)


def cmd_prom_health(prom, rules_file):
    want = rule_names(rules_file)
    loaded = loaded_rules(prom)
    if loaded is None:
        say(False, "GET %s/api/v1/rules answers" % prom)
        return 1
    rc = 0
    rc |= not say(sorted(r["name"] for r in loaded) == want,
                  "prometheus still has the %d rules of the copy (got %d)"
                  % (len(want), len(loaded)))
    bad = ["%s: %s %s" % (r["name"], r.get("health"), r.get("lastError", ""))
           for r in loaded if r.get("health") != "ok"]
    rc |= not say(not bad, "every rule's last evaluation is healthy%s"
                  % ("" if not bad else ": " + "; ".join(bad)))
    code, body = http_get(prom + "/metrics", timeout=10)
    totals = {}
    for line in body.splitlines():
        m = re.match(r"^(prometheus_rule_evaluation_failures_total|"
                     r"prometheus_notifications_dropped_total|"
                     r"prometheus_notifications_errors_total|"
                     r"prometheus_notifications_sent_total)(\{[^}]*\})? (\S+)$",
                     line)
        if m:
            totals[m.group(1)] = totals.get(m.group(1), 0) + float(m.group(3))
    for name in ("prometheus_rule_evaluation_failures_total",
                 "prometheus_notifications_dropped_total",
                 "prometheus_notifications_errors_total"):
        rc |= not say(name in totals and totals[name] == 0,
                      "%s is 0 over the run (got %s)"
                      % (name, totals.get(name, "no such series")))
    print("    prometheus_notifications_sent_total %s"
          % totals.get("prometheus_notifications_sent_total"))
    return 1 if rc else 0


# --------------------------------------------------------------------------
# wait-alert

TEMPLATE_ERRORS = ("<no value>", "error expanding template",
                   "error executing template", "%!")


def read_log(path):
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def cmd_last_seq(path):
    print(max([a["seq"] for a in read_log(path)] or [0]))
    return 0


def short(alert):
    return "#%d %s %s %s" % (alert["seq"], alert["status"],
                             json.dumps(alert["labels"], sort_keys=True),
                             json.dumps(alert["annotations"], sort_keys=True))


def cmd_wait_alert(log, timeout, after_seq, alertname, status, *opts):
    labels, contains, severity = {}, [], None
    opts = list(opts)
    while opts:
        opt = opts.pop(0)
        if opt == "--label":
            k, v = opts.pop(0).split("=", 1)
            labels[k] = v
        elif opt == "--contains":
            contains.append(opts.pop(0))
        elif opt == "--severity":
            severity = opts.pop(0)
        else:
            raise SystemExit("wait-alert: unknown option " + opt)
    what = "%s %s%s" % (alertname, status,
                        "".join(" %s=%s" % kv for kv in sorted(labels.items())))
    start = time.time()
    deadline = start + float(timeout)
    found = None
    while found is None:
        for alert in read_log(log):
            if (alert["seq"] > int(after_seq)
                    and alert["labels"].get("alertname") == alertname
                    and alert["status"] == status
                    and all(alert["labels"].get(k) == v
                            for k, v in labels.items())):
                found = alert
                break
        if found is None:
            if time.time() > deadline:
                say(False, "receiver got %s within %ss" % (what, timeout))
                print("    received so far (after #%s):" % after_seq)
                for alert in read_log(log):
                    if alert["seq"] > int(after_seq):
                        print("      " + short(alert))
                return 1
            time.sleep(0.2)
    say(True, "receiver got %s after %.1fs" % (what, time.time() - start))
    print("    " + short(found))

    # What a notification must carry, firing or resolved alike.
    lab, ann = found["labels"], found["annotations"]
    rc = 0
    if severity is not None:
        rc |= not say(lab.get("severity") == severity,
                      "%s: label severity=%s (got %r)"
                      % (what, severity, lab.get("severity")))
    rc |= not say(bool(lab.get("job")),
                  "%s: label job non-empty (got %r)" % (what, lab.get("job")))
    for key in ("summary", "description", "runbook_url"):
        value = ann.get(key, "")
        bad = [e for e in TEMPLATE_ERRORS if e in value]
        rc |= not say(bool(value.strip()) and not bad,
                      "%s: annotation %s non-empty, no template error%s"
                      % (what, key, (" (found %s)" % bad) if bad else ""))
    anchor = "#" + alertname.lower()
    rc |= not say(ann.get("runbook_url", "").endswith(anchor),
                  "%s: runbook_url ends with %s" % (what, anchor))
    for text in contains:
        rc |= not say(text in ann.get("description", ""),
                      "%s: description mentions %r" % (what, text))
    return 1 if rc else 0


# --------------------------------------------------------------------------
# dashboards

VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")
LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*(\w+)\s*\)\s*$", re.S)
# $__rate_interval is max(4 x scrape interval, $__interval + scrape
# interval) in Grafana; 1m holds several samples at any scrape interval up
# to 15 s and is what lint_dashboards.py uses.
GRAFANA_INTERVALS = {"__rate_interval": "1m", "__interval": "1m",
                     "__range": "1h", "__range_s": "3600",
                     "__interval_ms": "60000"}

# The rule: every panel query must return at least one sample that is not
# NaN (an empty result or NaN only is what Grafana shows as "No data").
# The only exceptions are listed here, by (dashboard uid, panel title,
# refId), each with the reason it cannot have data in this lab; an entry
# hides a panel that nobody has seen working, so add one only with a reason.
#
# Empty on purpose. Counters and gauges are pre-created at 0, so their
# panels show 0, which is data. The histogram panels (rate of _sum over
# rate of _count, histogram_quantile) are NaN until something is observed
# within $__rate_interval, and the lab provides every observation:
#   - lock wait: every campaign and keepalive measures a lock request;
#   - recovery scan time: the recovery pass of every won epoch (DESIGN 7),
#     and the test has just failed over;
#   - outbox dispatch lag: the test dispatches one outbox row, as the
#     control plane would, just before the queries.
ALLOWED_EMPTY = {
    # ("cp-ha-audit-recovery", "Outbox dispatch lag", "A"): "reason",
}


def all_panels(panels):
    for panel in panels or []:
        yield panel
        yield from all_panels(panel.get("panels"))


def substitute(expr, values):
    def repl(m):
        name = m.group(1) or m.group(2)
        if name in GRAFANA_INTERVALS:
            return GRAFANA_INTERVALS[name]
        if name not in values:
            raise KeyError("unknown variable $" + name)
        return values[name]
    return VARIABLE.sub(repl, expr)


def label_values(prom, selector, label):
    """What Grafana's label_values(SELECTOR, LABEL) lists."""
    url = (prom + "/api/v1/label/%s/values?" % label
           + urllib.parse.urlencode({"match[]": selector}))
    code, body = http_get(url, timeout=10)
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc.get("data") if doc.get("status") == "success" else None


def resolve_variables(prom, dashboard):
    """Values Grafana would use: the datasource is this Prometheus (it never
    appears in a query); a query variable takes its first value, or the
    All value (allValue) when it has includeAll; a variable whose query
    lists nothing takes the All value when it has one (namespace outside
    Kubernetes)."""
    values, notes = {}, []
    for var in dashboard.get("templating", {}).get("list", []):
        name = var["name"]
        if var.get("type") == "datasource":
            values[name] = "prometheus"
            continue
        if var.get("type") != "query":
            continue
        query = var.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        m = LABEL_VALUES.match(query or "")
        if not m:
            notes.append((False, "variable $%s: query %r is label_values()"
                          % (name, query)))
            continue
        selector = substitute(m.group(1), values)
        listed = label_values(prom, selector, m.group(2))
        all_value = var.get("allValue") if var.get("includeAll") else None
        if listed is None:
            notes.append((False, "variable $%s: %s parses" % (name, query)))
            continue
        if var.get("includeAll") and all_value:
            values[name] = all_value
        elif listed:
            values[name] = listed[0]
        else:
            values[name] = ""
        notes.append((bool(listed) or all_value is not None,
                      "variable $%s: label_values(%s, %s) lists %s -> $%s=%r"
                      % (name, selector, m.group(2), listed or "nothing",
                         name, values[name])))
    return values, notes


def has_data(result):
    for sample in result:
        value = sample.get("value", [None, "NaN"])[1]
        if value.lower() != "nan":
            return True
    return False


def describe(result, limit=4):
    parts = []
    for sample in result[:limit]:
        metric = {k: v for k, v in sample["metric"].items()
                  if k not in ("job", "namespace")}
        parts.append("%s=%s" % (json.dumps(metric, sort_keys=True)
                                if metric else "{}", sample["value"][1]))
    if len(result) > limit:
        parts.append("... %d series" % len(result))
    return "; ".join(parts) if parts else "(empty)"


def check_dashboards(prom, dash_dir, timeout):
    """Every target expr of every panel of every dashboard, with the
    dashboard's variables resolved as Grafana would, must parse (status
    success) and return at least one sample that is not NaN, unless it is
    in ALLOWED_EMPTY. Queries still without data are retried until TIMEOUT
    (a counter's increase needs two scrapes), then reported."""
    import glob
    queries = []
    rc = 0
    for path in sorted(glob.glob(os.path.join(dash_dir, "*.json"))):
        with open(path, encoding="utf-8") as f:
            dashboard = json.load(f)
        uid = dashboard.get("uid")
        values, notes = resolve_variables(prom, dashboard)
        for ok, message in notes:
            rc |= not say(ok, "%s: %s" % (uid, message))
        for panel in all_panels(dashboard.get("panels")):
            for target in panel.get("targets", []) or []:
                expr = target.get("expr")
                if not expr:
                    continue
                key = (uid, panel.get("title"), target.get("refId"))
                queries.append((key, substitute(expr, values)))
    deadline = time.time() + float(timeout)
    while True:
        results = {}
        for key, expr in queries:
            results[key] = prom_query(prom, expr)
        missing = [k for k, (ok, res) in results.items()
                   if ok and not has_data(res) and k not in ALLOWED_EMPTY]
        parse_errors = [k for k, (ok, _) in results.items() if not ok]
        if parse_errors or not missing or time.time() > deadline:
            break
        time.sleep(1)
    for key, expr in queries:
        uid, title, ref = key
        ok, res = results[key]
        name = "%s / %s / %s" % (uid, title, ref)
        if not ok:
            rc |= not say(False, "%s parses: %s" % (name, res))
            print("    " + expr)
            continue
        if has_data(res):
            say(True, "%s returns data: %s" % (name, describe(res)))
        elif key in ALLOWED_EMPTY:
            say(True, "%s has no data, allowed: %s (%s)"
                % (name, ALLOWED_EMPTY[key], describe(res)))
        else:
            rc |= not say(False, "%s returns data: %s" % (name, describe(res)))
            print("    " + expr)
    say(len(queries) > 0, "dashboards hold panel queries (%d)" % len(queries))
    return 1 if rc or not queries else 0


# --------------------------------------------------------------------------

COMMANDS = {
    "ports": cmd_ports,
    "receiver": cmd_receiver,
    "shorten-rules": cmd_shorten_rules,
    "http-wait": cmd_http_wait,
    "leader": cmd_leader,
    "prom-wait": cmd_prom_wait,
    "wait-alert": cmd_wait_alert,
    "last-seq": cmd_last_seq,
    "prom-health": cmd_prom_health,
    "prom-am-wait": cmd_prom_am_wait,
    "prom-none": cmd_prom_none,
    "prom-rules-wait": cmd_prom_rules_wait,
    "dashboards": check_dashboards,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](*sys.argv[2:]) or 0)
