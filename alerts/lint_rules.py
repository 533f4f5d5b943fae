#!/usr/bin/env python3
"""Checks what promtool does not: the conventions of our alert rules.

For every alert in alerts/*.rules.yml:
  - labels.severity is critical, warning or info;
  - an explicit "for";
  - annotations summary, description (templated with the value and a label
    naming the pod, instance or job) and runbook_url;
  - runbook_url points at docs/runbook.md and its anchor is a heading there;
  - alerts/tests/*.test.yml has a case where it fires and one where it must
    stay silent.
And every alertname used by a test exists (a typo would make a "stays
silent" case pass for nothing).

Prints one line per check, "PASS: ..." or "FAIL: ...", for test_rules.sh to
count. Exit status: 0 when every check passed, 1 otherwise.

Usage: lint_rules.py ALERTS_DIR RUNBOOK_MD
"""

import glob
import os
import re
import sys

import yaml

RUNBOOK_URL_BASE = (
    "https://github.com/cp-ha-sidecar/cp-ha-sidecar/blob/main/docs/runbook.md#")
SEVERITIES = ("critical", "warning", "info")


def github_anchor(heading):
    """The anchor GitHub gives a Markdown heading."""
    slug = heading.strip().lower()
    slug = re.sub(r"[^\w\- ]", "", slug)
    return slug.replace(" ", "-")


def runbook_anchors(path):
    anchors = set()
    with open(path, encoding="utf-8") as f:
        in_fence = False
        for line in f:
            if line.startswith("```"):
                in_fence = not in_fence
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m and not in_fence:
                anchors.add(github_anchor(m.group(1)))
    return anchors


def load_alerts(alerts_dir):
    alerts = []
    for path in sorted(glob.glob(os.path.join(alerts_dir, "*.rules.yml"))):
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        for group in doc.get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule:
                    alerts.append((os.path.basename(path), group["name"], rule))
    return alerts


def load_test_cases(alerts_dir):
    """Maps alertname -> [(test file, test name, fires?)]."""
    cases = {}
    for path in sorted(glob.glob(os.path.join(alerts_dir, "tests", "*.test.yml"))):
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        for test in doc.get("tests", []):
            for case in test.get("alert_rule_test", []) or []:
                fires = bool(case.get("exp_alerts"))
                cases.setdefault(case["alertname"], []).append(
                    (os.path.basename(path), test.get("name", "?"), fires))
    return cases


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    alerts_dir, runbook = sys.argv[1], sys.argv[2]
    results = []

    def check(ok, message):
        results.append(ok)
        print(("PASS: " if ok else "FAIL: ") + message)

    anchors = runbook_anchors(runbook) if os.path.exists(runbook) else set()
    check(bool(anchors), "runbook %s exists and has headings" % runbook)

    alerts = load_alerts(alerts_dir)
    check(bool(alerts), "alert rules found in %s" % alerts_dir)
    cases = load_test_cases(alerts_dir)
    names = [rule["alert"] for _, _, rule in alerts]

    for file_name, group, rule in alerts:
        name = rule["alert"]
        where = "%s (%s, %s)" % (name, file_name, group)
        labels = rule.get("labels") or {}
        notes = rule.get("annotations") or {}
        problems = []
        if names.count(name) != 1:
            problems.append("name used %d times" % names.count(name))
        if labels.get("severity") not in SEVERITIES:
            problems.append("severity %r not one of %s"
                            % (labels.get("severity"), "/".join(SEVERITIES)))
        if "for" not in rule:
            problems.append("no explicit for")
        if not notes.get("summary"):
            problems.append("no summary")
        description = notes.get("description", "")
        if "$value" not in description:
            problems.append("description does not show $value")
        if not re.search(r"\$labels\.(pod|instance|job)", description):
            problems.append("description names no pod, instance or job")
        url = notes.get("runbook_url", "")
        if not url.startswith(RUNBOOK_URL_BASE):
            problems.append("runbook_url %r is not under %s" % (url, RUNBOOK_URL_BASE))
        elif url[len(RUNBOOK_URL_BASE):] not in anchors:
            problems.append("runbook anchor #%s is no heading of %s"
                            % (url[len(RUNBOOK_URL_BASE):], runbook))
        check(not problems, "%s: metadata%s" % (
            where, "" if not problems else ": " + "; ".join(problems)))

        own = cases.get(name, [])
        fires = sum(1 for c in own if c[2])
        silent = sum(1 for c in own if not c[2])
        check(fires > 0 and silent > 0,
              "%s: tested (%d firing, %d silent cases)" % (name, fires, silent))

    unknown = sorted(set(cases) - set(names))
    check(not unknown, "every alertname in the tests exists%s" % (
        "" if not unknown else ": unknown " + ", ".join(unknown)))

    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
