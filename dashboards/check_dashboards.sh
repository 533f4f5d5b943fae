#!/usr/bin/env bash
# Validates the Grafana dashboards of cp-ha-sidecar (dashboards/*.json):
# fixed uids, no __inputs, a Prometheus datasource variable used by every
# panel, units on every panel, $__rate_interval in every range, and every
# query parsed by promtool (lint_dashboards.py lists each check).
#
# Installs promtool (Debian package "prometheus") when missing. Prints one
# line per check and, last, exactly one line "N passed, M failed"; exits
# non-zero when any check failed. Runs from any directory.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

passed=0
failed=0

pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
finish() { echo "$passed passed, $failed failed"; [[ $failed -eq 0 ]]; exit; }

# Step 1: tools (python3 with its json module, promtool).
if ! command -v promtool >/dev/null 2>&1; then
  echo "check_dashboards: promtool missing; installing the prometheus package" >&2
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
      --no-install-recommends prometheus >&2
fi
command -v promtool >/dev/null 2>&1 ||
  { fail "promtool is on PATH (after apt-get install prometheus)"; finish; }
command -v python3 >/dev/null 2>&1 ||
  { fail "python3 is available"; finish; }

# Step 2: the checks; count what the linter reports.
out="$(python3 "$here/lint_dashboards.py" "$here" "$(command -v promtool)" 2>&1)"
rc=$?
lint_failed=0
while IFS= read -r line; do
  case "$line" in
    PASS:*) pass "${line#PASS: }" ;;
    FAIL:*) fail "${line#FAIL: }"; lint_failed=1 ;;
    *) echo "    $line" ;;
  esac
done <<<"$out"
# A non-zero exit without a failed check is a crash of the linter itself.
if [[ $rc -ne 0 && $lint_failed -eq 0 ]]; then
  fail "lint_dashboards.py ran to completion (exit status $rc)"
fi

finish
