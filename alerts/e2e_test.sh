#!/usr/bin/env bash
# End-to-end test of the alert rules and dashboards on the lab:
#
#   a PostgreSQL primary + sync standby (lab/pgpair.sh), two sidecars, a real
#   Prometheus (Debian package) scraping both and loading a copy of
#   alerts/*.rules.yml whose "for" windows are divided by 20 (generated here,
#   never kept), and a real Alertmanager routing every alert to a webhook
#   receiver owned by this test (alerts/e2e/e2e.py receiver).
#
#   A. Stop the standby: the leader loses its synchronous standby and no
#      sidecar is write-ready. The receiver must get CpHaNoWriteReadySidecar
#      (critical) and CpHaSyncStandbysBelowMinimum (warning, naming the
#      leader) firing, with labels and annotations; starting the standby must
#      resolve both.
#   B. SIGKILL the leader: the other sidecar takes over; the receiver must
#      get CpHaSidecarDown (warning) for the killed pod; restarting it must
#      resolve it.
#   D. Five writes with a stale epoch, as a control plane that did not
#      refresh its epoch would make (cp_ha_fence(0) on the primary): the
#      receiver must get CpHaEpochMismatchRate (warning), counted from the
#      database although no sidecar wrote; it resolves a minute later (the
#      wait overlaps C). The rule compares with the count a minute ago, so D
#      starts once Prometheus holds a minute of history.
#   C. Graceful failover (SIGTERM the leader, restart it), one outbox row
#      dispatched as a control plane would (the sidecars run with
#      --create-app-schema, as in the lab); then every panel query of every
#      dashboards/*.json, variables resolved as Grafana would, must parse and
#      return data on the live Prometheus (alerts/e2e/e2e.py dashboards, with
#      its explicit ALLOWED_EMPTY list).
#
# Usage: alerts/e2e_test.sh [SIDECAR_BINARY]
#   SIDECAR_BINARY defaults to $CP_HA_SIDECAR, then build/exporter/cp-ha-sidecar.
#   E2E_KEEP=1 keeps the temporary directory (logs, TSDB) after a failure.
#
# Installs prometheus, prometheus-alertmanager and python3-yaml when missing.
# Prints one line per check and, last, exactly one line "N passed, M failed";
# exits non-zero when any check failed. Stops everything it started on exit.
# Takes about two minutes and a quarter, most of it D's two minutes.
# shellcheck disable=SC2317  # cleanup and its helpers run from the EXIT trap
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
helper="$here/e2e/e2e.py"
pgpair="$repo/lab/pgpair.sh"
sidecar_bin="${1:-${CP_HA_SIDECAR:-$repo/build/exporter/cp-ha-sidecar}}"

WAIT=60          # bound of every wait for an alert or a state, seconds
FOR_DIVISOR=20   # the rules' "for" windows are divided by this ...
FOR_MIN=3        # ... but kept at least this long (3 scrape intervals)

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
say() { printf '\n== [%3ds] %s\n' "$SECONDS" "$*"; }
quiet() { "$@" >/dev/null 2>&1; }

# run_counted CMD...: runs a helper that prints PASS:/FAIL: lines and counts
# them; a non-zero exit without a FAIL line counts as one failure.
run_counted() {
  local out rc line any_fail=0
  out="$("$@" 2>&1)"
  rc=$?
  while IFS= read -r line; do
    case "$line" in
      PASS:*) pass "${line#PASS: }" ;;
      FAIL:*) fail "${line#FAIL: }"; any_fail=1 ;;
      "") ;;
      *) echo "$line" ;;
    esac
  done <<<"$out"
  if [[ $rc -ne 0 && $any_fail -eq 0 ]]; then
    fail "${*:2:3} ran to completion (exit status $rc)"
  fi
  return $rc
}

# --------------------------------------------------------------------------
# Cleanup: everything this test started, by pid; then the verdict.

tmp=""
declare -A sidecar_pid=()
prom_pid="" am_pid="" recv_pid=""

stop_pid() {  # stop_pid PID: SIGTERM, then SIGKILL after 5 s; reap it.
  local pid=$1 i
  [[ -n "$pid" ]] || return 0
  kill "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

kill_sidecar() {  # kill_sidecar INDEX: SIGKILL (teardown needs no resignation)
  local pid=${sidecar_pid[$1]:-}
  [[ -n "$pid" ]] || return 0
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  sidecar_pid[$1]=""
}

show_logs() {
  local f
  for f in "$tmp"/sidecar-*.log "$tmp"/prometheus.log "$tmp"/alertmanager.log \
           "$tmp"/receiver.log "$tmp"/pg/primary.log "$tmp"/pg/standby.log; do
    [[ -s "$f" ]] || continue
    echo "--- last 15 lines of ${f#"$tmp"/} ---"
    tail -n 15 "$f"
  done
  if [[ -s "$tmp/alerts.jsonl" ]]; then
    echo "--- everything the receiver got ---"
    cat "$tmp/alerts.jsonl"
  fi
}

cleanup() {
  local rc=$? i left
  trap - EXIT INT TERM
  if [[ -n "$tmp" ]]; then
    (( failed > 0 || rc != 0 )) && show_logs
    for i in "${!sidecar_pid[@]}"; do kill_sidecar "$i"; done
    stop_pid "$prom_pid"
    stop_pid "$am_pid"
    stop_pid "$recv_pid"
    [[ -d "$tmp/pg" ]] && "$pgpair" destroy "$tmp/pg" >/dev/null 2>&1
    # Nothing that mentions the temporary directory may be left running.
    left="$(pgrep -a -f "$tmp" 2>/dev/null || true)"
    if [[ -z "$left" ]]; then
      pass "no process left behind"
    else
      fail "no process left behind:"
      printf '    %s\n' "${left//$'\n'/$'\n'    }"
    fi
    if [[ "${E2E_KEEP:-0}" == 1 && $failed -gt 0 ]]; then
      echo "kept $tmp"
    else
      rm -rf "$tmp"
    fi
  fi
  (( rc != 0 && failed == 0 )) && fail "e2e_test.sh ran to completion (exit status $rc)"
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]] && exit 0
  exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() { exit 0; }   # cleanup prints the verdict

# --------------------------------------------------------------------------
# Tools.

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

command -v prometheus >/dev/null 2>&1 || apt_install prometheus
command -v prometheus-alertmanager >/dev/null 2>&1 ||
  command -v alertmanager >/dev/null 2>&1 || apt_install prometheus-alertmanager
python3 -c 'import yaml' >/dev/null 2>&1 || apt_install python3-yaml
alertmanager_bin="$(command -v prometheus-alertmanager || command -v alertmanager || true)"

check "prometheus is installed" test -n "$(command -v prometheus)"
check "alertmanager is installed" test -n "$alertmanager_bin"
check "python3 with PyYAML is available" python3 -c 'import yaml'
check "sidecar binary $sidecar_bin is executable" test -x "$sidecar_bin"
(( failed == 0 )) || finish

# --------------------------------------------------------------------------
# The lab.

say "lab: PostgreSQL pair, two sidecars, Prometheus, Alertmanager, receiver"
tmp="$(mktemp -d /tmp/cpha-e2e.XXXXXX)"
chmod 755 "$tmp"   # the postgres user must enter it (docs/lab.md)
mapfile -t ports < <(python3 "$helper" ports 7)
pg_primary=${ports[0]} pg_standby=${ports[1]}
declare -A sidecar_port=([1]=${ports[2]} [2]=${ports[3]})
prom_port=${ports[4]} am_port=${ports[5]} recv_port=${ports[6]}
prom="http://127.0.0.1:$prom_port"
echo "ports: postgres $pg_primary/$pg_standby, sidecars ${sidecar_port[1]}/${sidecar_port[2]}," \
  "prometheus $prom_port, alertmanager $am_port, receiver $recv_port; dir $tmp"

if "$pgpair" create "$tmp/pg" "$pg_primary" "$pg_standby" >"$tmp/pgpair.log" 2>&1; then
  pass "PostgreSQL primary + sync standby created"
else
  fail "PostgreSQL primary + sync standby created"; cat "$tmp/pgpair.log"; finish
fi
(umask 077 && "$pgpair" url "$tmp/pg" multi >"$tmp/postgres-url")

# start_sidecar INDEX: pod cp-node-INDEX on its port (appends to its log).
start_sidecar() {
  local i=$1
  "$sidecar_bin" \
    --postgres-url-file "$tmp/postgres-url" \
    --holder-id "cp-node-$i" \
    --listen "127.0.0.1:${sidecar_port[$i]}" \
    --min-sync-replicas 1 \
    --quorum-monitor-interval 500ms \
    --keepalive-interval 500ms \
    --campaign-interval 500ms \
    --create-app-schema \
    >>"$tmp/sidecar-$i.log" 2>&1 &
  sidecar_pid[$i]=$!
}
start_sidecar 1
start_sidecar 2
for i in 1 2; do
  check "sidecar cp-node-$i serves /metrics" \
    python3 "$helper" http-wait "http://127.0.0.1:${sidecar_port[$i]}/metrics" 20 200
done

# The receiver, then Alertmanager, then Prometheus (which sends to it).
python3 "$helper" receiver "$recv_port" "$tmp/alerts.jsonl" >"$tmp/receiver.log" 2>&1 &
recv_pid=$!

cat >"$tmp/alertmanager.yml" <<EOF
route:
  receiver: e2e
  group_by: ['...']        # every alert its own group: no batching delays
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 4h
receivers:
  - name: e2e
    webhook_configs:
      - url: http://127.0.0.1:$recv_port/alerts
        send_resolved: true
EOF
"$alertmanager_bin" \
  --config.file="$tmp/alertmanager.yml" \
  --storage.path="$tmp/alertmanager" \
  --web.listen-address="127.0.0.1:$am_port" \
  --cluster.listen-address= \
  --log.level=warn \
  >"$tmp/alertmanager.log" 2>&1 &
am_pid=$!

# The rules under test, with shortened "for" windows (nothing else changed).
# Prometheus starts with no rules and loads them (SIGHUP) only once it
# scrapes both sidecars and knows Alertmanager: before its first scrape
# every series is absent, which CpHaNoWriteReadySidecar rightly treats as
# "no sidecar", and a 3 s "for" would fire on that.
shopt -s nullglob
rule_files=("$here"/*.rules.yml)
shopt -u nullglob
echo "rules: ${rule_files[*]#"$repo"/}, every \"for\" / $FOR_DIVISOR (at least ${FOR_MIN}s):"
check "shortened copy of the rules generated" \
  python3 "$helper" shorten-rules "$FOR_DIVISOR" "$FOR_MIN" "$tmp/rules.shortened.yml" "${rule_files[@]}"
check "promtool check rules accepts the copy" \
  quiet promtool check rules "$tmp/rules.shortened.yml"
echo "groups: []" >"$tmp/rules.yml"

cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $tmp/rules.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$am_port']
scrape_configs:
  - job_name: cp-ha-sidecar
    static_configs:
      - targets: ['127.0.0.1:${sidecar_port[1]}']
        labels: {pod: cp-node-1}
      - targets: ['127.0.0.1:${sidecar_port[2]}']
        labels: {pod: cp-node-2}
EOF
prometheus \
  --config.file="$tmp/prometheus.yml" \
  --storage.tsdb.path="$tmp/prometheus" \
  --web.listen-address="127.0.0.1:$prom_port" \
  --log.level=warn \
  >"$tmp/prometheus.log" 2>&1 &
prom_pid=$!

check "receiver answers" python3 "$helper" http-wait "http://127.0.0.1:$recv_port/" 20 200
check "alertmanager is ready" python3 "$helper" http-wait "http://127.0.0.1:$am_port/-/ready" 30 200
check "prometheus is ready" python3 "$helper" http-wait "$prom/-/ready" 30 200
check "prometheus scrapes both sidecars (up == 1 for cp-node-1 and cp-node-2)" \
  python3 "$helper" prom-wait "$prom" "$WAIT" 'count(up{job="cp-ha-sidecar"} == 1) == 2'
check "prometheus discovered Alertmanager" python3 "$helper" prom-am-wait "$prom" "$WAIT"
if leader=$(python3 "$helper" leader "$WAIT" "${sidecar_port[1]}" "${sidecar_port[2]}"); then
  pass "one sidecar is write-ready: cp-node-$leader"
else
  fail "one sidecar is write-ready"; finish
fi
check "prometheus sees one write-ready sidecar" \
  python3 "$helper" prom-wait "$prom" "$WAIT" 'sum(cp_backend_write_ready{job="cp-ha-sidecar"}) == 1'
cp "$tmp/rules.shortened.yml" "$tmp/rules.yml"
kill -HUP "$prom_pid"
check "prometheus loaded the shortened rules (SIGHUP)" \
  python3 "$helper" prom-rules-wait "$prom" "$tmp/rules.yml" 20
# The healthy lab must not fire anything, even with the shortened windows
# (the longest "for" that matters here is 6 s).
sleep 8
check "no alert fires in the healthy lab" \
  python3 "$helper" prom-none "$prom" 'ALERTS{alertstate="firing"}'
(( failed == 0 )) || finish

# expect_alert AFTER_SEQ ALERTNAME STATUS [wait-alert options]: waits (at most
# $WAIT s, or $ALERT_WAIT when set) for the receiver to get that
# notification, and checks it. A "resolved" is not waited for when its
# "firing" never came.
declare -A fired=()
expect_alert() {
  local after=$1 name=$2 status=$3
  shift 3
  if [[ $status == resolved && ${fired[$name]:-} != 1 ]]; then
    fail "receiver got $name resolved (not waited for: it never fired)"
    return 1
  fi
  if run_counted python3 "$helper" wait-alert "$tmp/alerts.jsonl" "${ALERT_WAIT:-$WAIT}" \
       "$after" "$name" "$status" "$@"; then
    [[ $status == firing ]] && fired[$name]=1
    return 0
  fi
  # Received but with a wrong label or annotation still counts as fired.
  [[ $status == firing ]] && grep -q "\"alertname\": \"$name\".*\"status\": \"firing\"" \
    "$tmp/alerts.jsonl" && fired[$name]=1
  return 1
}

# --------------------------------------------------------------------------
# A. No write-ready sidecar: stop the synchronous standby.

say "A: stop the standby (leader cp-node-$leader loses its sync standby)"
seq0=$(python3 "$helper" last-seq "$tmp/alerts.jsonl")
check "standby stopped" "$pgpair" stop "$tmp/pg" standby
expect_alert "$seq0" CpHaNoWriteReadySidecar firing --severity critical --label job=cp-ha-sidecar \
  --contains "write-ready: 0" --contains "cp-node-$leader"
expect_alert "$seq0" CpHaSyncStandbysBelowMinimum firing --severity warning \
  --label job=cp-ha-sidecar --label "pod=cp-node-$leader" \
  --contains "cp-node-$leader" --contains "minimum of"

say "A: start the standby again"
seq1=$(python3 "$helper" last-seq "$tmp/alerts.jsonl")
check "standby started" "$pgpair" start "$tmp/pg" standby
check "standby streaming in sync again" "$pgpair" wait-sync "$tmp/pg" "$WAIT"
expect_alert "$seq1" CpHaNoWriteReadySidecar resolved --severity critical --label job=cp-ha-sidecar
expect_alert "$seq1" CpHaSyncStandbysBelowMinimum resolved --severity warning \
  --label "pod=cp-node-$leader"
if leader=$(python3 "$helper" leader "$WAIT" "${sidecar_port[1]}" "${sidecar_port[2]}"); then
  pass "a sidecar is write-ready again: cp-node-$leader"
else
  fail "a sidecar is write-ready again"; finish
fi

# --------------------------------------------------------------------------
# B. A sidecar down: SIGKILL the leader (a crash), then restart it.

say "B: SIGKILL the leader cp-node-$leader"
victim=$leader other=$((3 - leader))
seq2=$(python3 "$helper" last-seq "$tmp/alerts.jsonl")
kill_sidecar "$victim"
check "cp-node-$other takes over (write-ready)" \
  python3 "$helper" http-wait "http://127.0.0.1:${sidecar_port[$other]}/v1/health/write-ready" "$WAIT" 200
expect_alert "$seq2" CpHaSidecarDown firing --severity warning --label job=cp-ha-sidecar \
  --label "pod=cp-node-$victim" --label "instance=127.0.0.1:${sidecar_port[$victim]}" \
  --contains "cp-node-$victim" --contains "up = 0"

say "B: restart cp-node-$victim"
seq3=$(python3 "$helper" last-seq "$tmp/alerts.jsonl")
start_sidecar "$victim"
check "cp-node-$victim serves /metrics again" \
  python3 "$helper" http-wait "http://127.0.0.1:${sidecar_port[$victim]}/metrics" 20 200
expect_alert "$seq3" CpHaSidecarDown resolved --severity warning --label "pod=cp-node-$victim"

# --------------------------------------------------------------------------
# D. A control plane writing with a stale epoch: five cp_ha_fence() calls
#    with epoch 0 are rejected. The count comes from the database, so it
#    must reach the alert although no sidecar made those writes; it resolves
#    a minute later, after C (whose restarts must not disturb it).

say "D: a control plane writes with a stale epoch (5 rejected cp_ha_fence calls)"
fence_count() {
  "$pgpair" psql "$tmp/pg" primary -Atqc "SELECT cp_ha_fence_rejections_total()" 2>/dev/null
}
# The alert compares the count with the count a minute ago, which a
# Prometheus younger than a minute does not have (it then stays silent).
check "prometheus holds the cluster count of a minute ago" \
  python3 "$helper" prom-wait "$prom" "$WAIT" \
  'cp_authority_epoch_mismatch_cluster_total{job="cp-ha-sidecar"} offset 1m'
seq4=$(python3 "$helper" last-seq "$tmp/alerts.jsonl")
before=$(fence_count)
"$pgpair" psql "$tmp/pg" primary -Atq -c "SELECT cp_ha_fence(0)" -c "SELECT cp_ha_fence(0)" \
  -c "SELECT cp_ha_fence(0)" -c "SELECT cp_ha_fence(0)" -c "SELECT cp_ha_fence(0)" >/dev/null 2>&1
after=$(fence_count)
check "the fence rejected 5 stale-epoch writes (database count ${before:-?} -> ${after:-?})" \
  test "$(( ${after:-0} - ${before:-0} ))" -eq 5
expect_alert "$seq4" CpHaEpochMismatchRate firing --severity warning \
  --label job=cp-ha-sidecar --contains "rejected by the epoch fence" \
  --contains "own writes: none"

# --------------------------------------------------------------------------
# C. Graceful failover, then every dashboard query on the live Prometheus.

if leader=$(python3 "$helper" leader "$WAIT" "${sidecar_port[1]}" "${sidecar_port[2]}"); then
  pass "one sidecar is write-ready before the failover: cp-node-$leader"
else
  fail "one sidecar is write-ready before the failover"; finish
fi
say "C: graceful failover: SIGTERM cp-node-$leader, restart it"
old=$leader new=$((3 - leader))
stop_pid "${sidecar_pid[$old]}"
sidecar_pid[$old]=""
check "cp-node-$new takes over (write-ready)" \
  python3 "$helper" http-wait "http://127.0.0.1:${sidecar_port[$new]}/v1/health/write-ready" "$WAIT" 200
start_sidecar "$old"
check "cp-node-$old serves /metrics again" \
  python3 "$helper" http-wait "http://127.0.0.1:${sidecar_port[$old]}/metrics" 20 200
check "prometheus scrapes both sidecars again" \
  python3 "$helper" prom-wait "$prom" "$WAIT" 'count(up{job="cp-ha-sidecar"} == 1) == 2'
check "prometheus sees cp-node-$new as the only write-ready sidecar" \
  python3 "$helper" prom-wait "$prom" "$WAIT" \
  "sum(cp_backend_write_ready{job=\"cp-ha-sidecar\"}) == 1 and on () cp_backend_write_ready{pod=\"cp-node-$new\"} == 1"

# The control plane's part, which the lab has no process for: one outbox row
# created 2 s ago and dispatched now, so that the outbox panels have a
# dispatch to show (the leader observes newly dispatched rows).
check "one outbox row dispatched (as the control plane would)" \
  "$pgpair" psql "$tmp/pg" primary -Atqc \
  "SET synchronous_commit = local; INSERT INTO outbox (created_at, dispatched_at) VALUES (now() - interval '2 seconds', now())"

say "C: every panel query of dashboards/*.json against the live Prometheus"
run_counted python3 "$helper" dashboards "$prom" "$repo/dashboards" 30

say "D: the stale writes leave the 1m window"
# Resolves only once the rejections are a minute old: one minute more.
ALERT_WAIT=$((WAIT + 60)) expect_alert "$seq4" CpHaEpochMismatchRate resolved --severity warning \
  --label job=cp-ha-sidecar

say "what the receiver got, in order"
python3 - "$tmp/alerts.jsonl" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    l = a["labels"]
    print("  #%-3d %-8s %-34s %s" % (a["seq"], a["status"], l.get("alertname"),
          " ".join("%s=%s" % kv for kv in sorted(l.items()) if kv[0] != "alertname")))
EOF
check "no CpHaMultipleWriteReadySidecars was ever sent (split brain)" \
  bash -c "! grep -q '\"alertname\": \"CpHaMultipleWriteReadySidecars\"' '$tmp/alerts.jsonl'"

say "Prometheus' own view of the run"
run_counted python3 "$helper" prom-health "$prom" "$tmp/rules.yml"

finish
