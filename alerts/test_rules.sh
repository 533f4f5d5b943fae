#!/usr/bin/env bash
# Checks and unit-tests the Prometheus alert rules of cp-ha-sidecar.
#
#   1. promtool check rules  on every alerts/*.rules.yml
#   2. promtool test rules   on every alerts/tests/*.test.yml
#   3. lint_rules.py: severity, annotations, runbook anchors in
#      docs/runbook.md, and a firing and a silent test case for every alert
#
# Installs promtool (Debian package "prometheus") and PyYAML when missing.
# Prints one line per check and, last, exactly one line "N passed, M failed";
# exits non-zero when any check failed. Runs from any directory.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

passed=0
failed=0

pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
finish() { echo "$passed passed, $failed failed"; [[ $failed -eq 0 ]]; exit; }

# apt_install PACKAGE...: install Debian packages, as root or through sudo.
apt_install() {
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || return 1
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
      --no-install-recommends "$@" >&2
}

# Step 1: tools.
if ! command -v promtool >/dev/null 2>&1; then
  echo "test_rules: promtool missing; installing the prometheus package" >&2
  apt_install prometheus
fi
if ! command -v promtool >/dev/null 2>&1; then
  fail "promtool is on PATH (after apt-get install prometheus)"
  finish
fi

python=python3
if ! "$python" -c 'import yaml' >/dev/null 2>&1; then
  if ! /usr/bin/python3 -c 'import yaml' >/dev/null 2>&1; then
    echo "test_rules: PyYAML missing; installing python3-yaml" >&2
    apt_install python3 python3-yaml
  fi
  python=/usr/bin/python3
fi

shopt -s nullglob
rule_files=("$here"/*.rules.yml)
test_files=("$here"/tests/*.test.yml)
shopt -u nullglob
[[ ${#rule_files[@]} -gt 0 ]] || fail "rule files exist in alerts/"
[[ ${#test_files[@]} -gt 0 ]] || fail "test files exist in alerts/tests/"

# Step 2: syntax and PromQL of every rule file.
for f in "${rule_files[@]}"; do
  if out="$(promtool check rules "$f" 2>&1)"; then
    pass "promtool check rules ${f#"$repo"/}: $(grep -o '[0-9]* rules found' <<<"$out")"
  else
    fail "promtool check rules ${f#"$repo"/}"
    sed 's/^/    /' <<<"$out"
  fi
done

# Step 3: unit tests, one file at a time so that a failure names its file.
for f in "${test_files[@]}"; do
  cases="$(grep -c '^ *- name:' "$f")"
  if out="$(cd "$(dirname "$f")" && promtool test rules "$(basename "$f")" 2>&1)"; then
    pass "promtool test rules ${f#"$repo"/} ($cases tests)"
  else
    fail "promtool test rules ${f#"$repo"/}"
    sed 's/^/    /' <<<"$out"
  fi
done

# Step 4: conventions promtool does not check.
lint_out="$("$python" "$here/lint_rules.py" "$here" "$repo/docs/runbook.md" 2>&1)"
lint_rc=$?
lint_failed=0
while IFS= read -r line; do
  case "$line" in
    PASS:*) pass "${line#PASS: }" ;;
    FAIL:*) fail "${line#FAIL: }"; lint_failed=1 ;;
    *) echo "    $line" ;;
  esac
done <<<"$lint_out"
# A non-zero exit without a failed check is a crash of the linter itself.
if [[ $lint_rc -ne 0 && $lint_failed -eq 0 ]]; then
  fail "lint_rules.py ran to completion (exit status $lint_rc)"
fi

finish
