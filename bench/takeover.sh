#!/usr/bin/env bash
# takeover.sh: how long the control plane has no write-ready leader when the
# leading sidecar goes away. Each trial runs from the moment of the fault to
# the first 200 of the other sidecar's GET /v1/health/write-ready.
#
# Scenarios, each run --trials times, the two nodes taking turns to lead:
#   kill      the leader gets SIGKILL (a crash); it is then restarted and
#             rejoins as a follower
#   failover  POST /v1/ha/failover with the admin token on the leader, the
#             request `cp-ha-sidecar ha failover trigger` sends; the old
#             leader holds off for --resign-holdoff, then waits for the lock
#   sigterm   the leader gets SIGTERM (a pod being deleted): it resigns and
#             exits; it is then restarted and rejoins as a follower
#
# bench/bench.py injects each fault itself, taking the monotonic time just
# before the signal or request, then asks the other node for write-ready
# every --poll-ms (on a fresh connection each time, about 0.05 ms on
# loopback) until it answers 200; the trial's time is when that answer
# arrived. Before each trial the other node must be a read-ready follower
# waiting for the lock, and --settle-ms more pass.
#
# Usage: bench/takeover.sh [--trials N] [--scenarios kill,failover,sigterm]
#                          [--poll-ms MS] [--settle-ms MS] [--sidecar PATH]
#   --trials      trials per scenario (default 100)
#   --sidecar     the binary (default $CP_HA_SIDECAR, else
#                 build/exporter/cp-ha-sidecar)
# Ports, the results directory and the sidecar timing: bench/lib.sh.
# Writes RESULTS_DIR/takeover.json and takeover-trials.jsonl (every trial).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TRIALS=100
SCENARIOS=kill,failover,sigterm
POLL_MS=0.5
SETTLE_MS=500

parse_args() {
  while (($# > 0)); do
    case $1 in
      --trials) TRIALS=$(need_value "$@"); need_int "$1" "$TRIALS" ;;
      --scenarios) SCENARIOS=$(need_value "$@") ;;
      --poll-ms) POLL_MS=$(need_value "$@") ;;
      --settle-ms) SETTLE_MS=$(need_value "$@"); need_int "$1" "$SETTLE_MS" ;;
      --sidecar) SIDECAR_BIN=$(need_value "$@") ;;
      -h|--help) print_usage "$0"; exit 0 ;;
      *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift 2
  done
  ((TRIALS > 0)) || die "--trials must be at least 1"
  local scenario
  for scenario in ${SCENARIOS//,/ }; do
    case $scenario in
      kill|failover|sigterm) ;;
      *) die "unknown scenario '$scenario'; expected kill, failover, sigterm" ;;
    esac
  done
}

settings_json() {
  jq -n --argjson sidecar_flags "$(sidecar_flags_json)" \
    --argjson trials "$TRIALS" \
    --arg scenarios "$SCENARIOS" --arg poll_ms "$POLL_MS" \
    --argjson settle_ms "$SETTLE_MS" \
    '{sidecar: $sidecar_flags, trials_per_scenario: $trials,
      scenarios: ($scenarios | split(",")), poll_ms: ($poll_ms | tonumber),
      settle_ms: $settle_ms,
      failover_request: "POST /v1/ha/failover with the admin bearer token",
      measured: ("fault (monotonic, just before the signal or request) to"
                 + " the first 200 answer of the other node'\''s"
                 + " /v1/health/write-ready"),
      percentiles: "nearest rank"}'
}

fault_mode() {
  case $1 in
    kill) echo kill ;;
    failover) echo api ;;
    sigterm) echo sigterm ;;
  esac
}

# one_trial SCENARIO LEADER OTHER: prints the trial's JSON line.
one_trial() {
  python3 "$BENCH_PY" fault "$(fault_mode "$1")" --scenario "$1" \
    --pid "${SIDECAR_PID[$2]}" \
    --leader-port "$(sidecar_port "$2")" \
    --follower-port "$(sidecar_port "$3")" \
    --token-file "$WORK/admin-token" \
    --poll-ms "$POLL_MS" ||
    die "$1 trial failed; see $WORK/sidecar-*.log"
}

# rejoin SCENARIO NODE: brings the old leader back as a follower.
rejoin() {
  local pid=${SIDECAR_PID[$2]}
  case $1 in
    kill|sigterm)
      await_exit "$pid" 20 || die "sidecar $2 (pid $pid) did not exit after $1"
      untrack_pid "$pid"
      start_sidecar "$2"
      ;;
    failover) ;;
  esac
}

run_scenario() {
  local scenario=$1 leader other trial line
  leader=$(wait_leader 30)
  say "$scenario: $TRIALS trials"
  for ((trial = 1; trial <= TRIALS; trial++)); do
    other=$((3 - leader))
    python3 "$BENCH_PY" wait-follower "$(sidecar_port "$other")" 30 ||
      die "sidecar $other did not become a waiting follower; see its log"
    sleep "$(printf '%d.%03d' $((SETTLE_MS / 1000)) $((SETTLE_MS % 1000)))"
    line=$(one_trial "$scenario" "$leader" "$other")
    echo "$line" >>"$WORK/trials.jsonl"
    if ((trial % 10 == 0 || trial == TRIALS)); then
      say "$scenario trial $trial/$TRIALS: $(jq -r .ms <<<"$line") ms"
    fi
    rejoin "$scenario" "$leader"
    leader=$other
  done
}

main() {
  parse_args "$@"
  bench_init takeover
  need_sidecar
  need_tools jq python3
  start_pair
  start_sidecar 1
  start_sidecar 2
  write_header "$(settings_json)"
  : >"$WORK/trials.jsonl"

  local scenario
  for scenario in ${SCENARIOS//,/ }; do
    run_scenario "$scenario"
  done

  python3 "$BENCH_PY" takeover-summary "$WORK/trials.jsonl" >>"$WORK/rows.jsonl"
  cp "$WORK/trials.jsonl" "$RESULTS_DIR/takeover-trials.jsonl"
  finish
}

main "$@"
