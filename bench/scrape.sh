#!/usr/bin/env bash
# scrape.sh: how fast a scrape or probe is answered, by the sidecar and, side
# by side in the same run, by Debian's prometheus-postgres-exporter against
# the same PostgreSQL, in three states of the database:
#
#   healthy   primary and synchronous standby up
#   down      the primary stopped (pg_ctl stop -m fast): connections refused
#   hung      every TCP packet to or from the primary's and the standby's
#             ports dropped (iptables OUTPUT rules inserted and deleted by
#             this script only; needs root): queries and connects hang
#
# For each state, wrk (--latency percentiles through bench/wrk_report.lua)
# runs --duration seconds at each concurrency (connections; threads =
# min(2, connections)) against:
#   sidecar   GET /metrics and GET /v1/health/write-ready (one sidecar, the
#             leader, --min-sync-replicas 1)
#   exporter  GET /metrics (its defaults, database "postgres")
# Latency percentiles cover answered requests; requests unanswered after
# --wrk-timeout are counted as timeouts. A 503 from write-ready is an answer
# (counted in non_2xx).
#
# Usage: bench/scrape.sh [--duration SECONDS] [--concurrency 1,10,50]
#                        [--states healthy,down,hung] [--wrk-timeout SECONDS]
#                        [--sidecar PATH]
#   --duration     seconds per wrk run (default 10)
# Ports, the results directory and the sidecar timing: bench/lib.sh.
# Writes RESULTS_DIR/scrape.json.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION=10
CONCURRENCY=1,10,50
STATES=healthy,down,hung
WRK_TIMEOUT=5
readonly RULE_TAG=cp-ha-bench-scrape
# How long the sidecar may take to notice a state (the keepalive interval
# plus --db-timeout, and then some).
readonly NOTICE_S=30
# How long the standby may take to stream again once the packets flow: a
# connection attempt made while they were dropped waits for its next SYN
# retransmission, up to a minute apart by then.
readonly RESYNC_S=120

parse_args() {
  while (($# > 0)); do
    case $1 in
      --duration) DURATION=$(need_value "$@"); need_int "$1" "$DURATION" ;;
      --concurrency) CONCURRENCY=$(need_value "$@") ;;
      --states) STATES=$(need_value "$@") ;;
      --wrk-timeout)
        WRK_TIMEOUT=$(need_value "$@")
        need_int "$1" "$WRK_TIMEOUT"
        ;;
      --sidecar) SIDECAR_BIN=$(need_value "$@") ;;
      -h|--help) print_usage "$0"; exit 0 ;;
      *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift 2
  done
  ((DURATION >= 1)) || die "--duration must be at least 1 second"
  local state connections
  for state in ${STATES//,/ }; do
    case $state in
      healthy|down|hung) ;;
      *) die "unknown state '$state'; expected healthy, down, hung" ;;
    esac
  done
  for connections in ${CONCURRENCY//,/ }; do
    need_int --concurrency "$connections"
    ((connections >= 1)) || die "--concurrency values must be at least 1"
  done
}

settings_json() {
  jq -n --argjson sidecar_flags "$(sidecar_flags_json)" \
    --argjson duration "$DURATION" --arg concurrency "$CONCURRENCY" \
    --arg states "$STATES" --argjson timeout "$WRK_TIMEOUT" \
    '{sidecar: $sidecar_flags, wrk_duration_s: $duration,
      concurrency: ($concurrency | split(",") | map(tonumber)),
      states: ($states | split(",")), wrk_timeout_s: $timeout,
      wrk_threads: "min(2, connections)",
      exporter: "defaults; DATA_SOURCE_NAME on the primary, database postgres",
      hung: ("iptables -I OUTPUT -p tcp --dport PORT -j DROP and --sport"
             + " PORT, for the primary and the standby port")}'
}

# ---------------------------------------------------------------------------
# Database states.

write_ready_code() {
  curl -s -o /dev/null -m 2 -w '%{http_code}' \
    "$(sidecar_url 1 /v1/health/write-ready)" || true
}

# await_write_ready CODE: the sidecar's write-ready answers CODE.
await_write_ready() {
  python3 "$BENCH_PY" wait-http "$(sidecar_url 1 /v1/health/write-ready)" \
    "$1" "$NOTICE_S" ||
    die "the sidecar's write-ready is not $1 after ${NOTICE_S}s;" \
      "see $WORK/sidecar-1.log"
}

hang_database() {
  local port spec
  for port in "$PRIMARY_PORT" "$STANDBY_PORT"; do
    for spec in "--dport $port" "--sport $port"; do
      spec="-p tcp $spec -m comment --comment $RULE_TAG -j DROP"
      # Recorded first, so that the cleanup deletes it whatever happens.
      BENCH_RULES+=("$spec")
      # shellcheck disable=SC2086  # the spec is split into its words
      iptables -I OUTPUT $spec
    done
  done
}

# can_hang: prints why the hung state can not run here, or nothing.
can_hang() {
  if ((EUID != 0)); then
    echo "not root"
  elif ! command -v iptables >/dev/null 2>&1; then
    echo "no iptables"
  elif ! iptables -S OUTPUT >/dev/null 2>&1; then
    echo "iptables can not read the OUTPUT chain"
  fi
}

enter_state() {
  case $1 in
    healthy) await_write_ready 200 ;;
    down)
      "$PGPAIR" stop "$PG_DIR" primary fast
      await_write_ready 503
      ;;
    hung)
      hang_database
      await_write_ready 503
      ;;
  esac
  say "state $1: sidecar write-ready answers $(write_ready_code)"
}

leave_state() {
  case $1 in
    healthy) ;;
    down)
      "$PGPAIR" start "$PG_DIR" primary
      "$PGPAIR" wait-sync "$PG_DIR" "$NOTICE_S"
      ;;
    hung)
      drop_rules
      "$PGPAIR" wait-sync "$PG_DIR" "$RESYNC_S"
      ;;
  esac
}

# ---------------------------------------------------------------------------
# Load.

# run_wrk STATE SERVER URL CONNECTIONS: one JSON row.
run_wrk() {
  local state=$1 server=$2 url=$3 connections=$4 threads=2 out
  ((connections < threads)) && threads=$connections
  out=$("$WRK_BIN" -t "$threads" -c "$connections" -d "${DURATION}s" \
    --timeout "${WRK_TIMEOUT}s" -s "$BENCH_DIR/wrk_report.lua" "$url" 2>&1) ||
    die "wrk failed against $url: $out"
  python3 "$BENCH_PY" wrk-row "state=$state" "server=$server" \
    "path=/${url#http://127.0.0.1:*/}" "concurrency=$connections" <<<"$out"
}

measure_state() {
  local state=$1 connections
  local -a targets=(
    "sidecar $(sidecar_url 1 /metrics)"
    "sidecar $(sidecar_url 1 /v1/health/write-ready)"
    "exporter http://127.0.0.1:$EXPORTER_PORT/metrics"
  )
  local target server url row
  for target in "${targets[@]}"; do
    read -r server url <<<"$target"
    for connections in ${CONCURRENCY//,/ }; do
      row=$(run_wrk "$state" "$server" "$url" "$connections")
      echo "$row" >>"$WORK/rows.jsonl"
      say "$state $server /${url#http://127.0.0.1:*/} c=$connections:" \
        "$(jq -r '"p50 \(.p50_ms) ms, p99 \(.p99_ms) ms,"
                  + " \(.requests) answers, \(.timeouts) timeouts"' <<<"$row")"
    done
  done
}

main() {
  parse_args "$@"
  bench_init scrape
  need_sidecar
  need_tools jq curl python3 "$WRK_BIN" "$EXPORTER_BIN"
  start_pair
  start_sidecar 1
  wait_leader 30 >/dev/null
  start_exporter
  write_header "$(settings_json)"

  local -a states
  read -r -a states <<<"${STATES//,/ }"
  local i why
  for ((i = 0; i < ${#states[@]}; i++)); do
    if [[ ${states[i]} == hung ]] && why=$(can_hang) && [[ -n $why ]]; then
      say "skipping the hung state: $why"
      continue
    fi
    enter_state "${states[i]}"
    measure_state "${states[i]}"
    # The last state needs no way back: the cleanup removes the lab.
    if ((i + 1 < ${#states[@]})); then
      leave_state "${states[i]}"
    fi
  done
  finish
}

main "$@"
