#!/usr/bin/env bash
# footprint.sh: what an idle sidecar costs, next to Debian's
# prometheus-postgres-exporter watching the same PostgreSQL, while
# something scrapes each one's /metrics every second:
#
#   rss        resident memory (VmRSS), sampled every 5 s: mean, max and
#              one sample a minute; its anonymous and file-backed parts
#   cpu        user + system CPU time over the window, in % of one core
#   sessions   its sessions in pg_stat_activity (by application_name)
#   queries/s  top-level statements it sent, counted in the server log
#              (log_statement = all on its database, lines tagged with the
#              application_name); nested statements inside a function call
#              do not count. Beside it, commits + rollbacks per second of
#              its database in pg_stat_database, which also counts its
#              transactions (the two sidecars share one database).
#   server cpu CPU time of the backends serving its sessions
#
# Each scrape opens a new connection, as a kubelet probe does (Prometheus
# would keep one open): CivetWeb hands each connection to the next free
# worker thread, so over the window every --http-threads worker serves.
#
# Two sidecars run, as in production: the leader (keepalives, replication
# monitor, audit collector) and a follower (the same, but waiting for the
# election lock in cp_ha_wait_for_lock instead of keepalives). The exporter
# runs with its defaults against the primary's "postgres" database; the
# sidecars use "autonomy"; the sampler's own queries go to "bench_ctl".
#
# Usage: bench/footprint.sh [--duration SECONDS] [--warmup SECONDS]
#                           [--http-threads N] [--sidecar PATH]
#   --duration      the measured window (default 600: ten minutes)
#   --warmup        time after start-up before it (default 30)
#   --http-threads  the sidecars' --http-threads (default: theirs, 256)
# Ports, the results directory and the sidecar timing: bench/lib.sh.
# Writes RESULTS_DIR/footprint.json.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION=600
WARMUP=30
HTTP_THREADS=""
readonly SCRAPE_INTERVAL=1 SAMPLE_INTERVAL=5

parse_args() {
  while (($# > 0)); do
    case $1 in
      --duration) DURATION=$(need_value "$@"); need_int "$1" "$DURATION" ;;
      --warmup) WARMUP=$(need_value "$@"); need_int "$1" "$WARMUP" ;;
      --http-threads)
        HTTP_THREADS=$(need_value "$@")
        need_int "$1" "$HTTP_THREADS"
        SIDECAR_FLAGS+=(--http-threads "$HTTP_THREADS")
        ;;
      --sidecar) SIDECAR_BIN=$(need_value "$@") ;;
      -h|--help) print_usage "$0"; exit 0 ;;
      *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift 2
  done
  ((DURATION >= 2)) || die "--duration must be at least 2 seconds"
}

settings_json() {
  jq -n --argjson sidecar_flags "$(sidecar_flags_json)" \
    --argjson duration "$DURATION" \
    --argjson warmup "$WARMUP" --argjson scrape "$SCRAPE_INTERVAL" \
    --argjson sample "$SAMPLE_INTERVAL" \
    '{sidecar: $sidecar_flags, duration_s: $duration, warmup_s: $warmup,
      scrape_interval_s: $scrape, sample_interval_s: $sample,
      exporter: "defaults; DATA_SOURCE_NAME on the primary, database postgres",
      queries: "top-level statements in the server log (log_statement = all)",
      cpu: "utime + stime from /proc over the window, % of one core"}'
}

# Every top-level statement of the measured processes goes to the server
# log; set before they connect (a database setting applies to new sessions).
prepare_database() {
  local db
  for db in autonomy postgres; do
    sql postgres "ALTER DATABASE $db SET log_statement = 'all'"
  done
  sql postgres "CREATE DATABASE bench_ctl"
}

start_subjects() {
  start_sidecar 1
  [[ $(wait_leader 30) == 1 ]] || die "sidecar 1 should lead"
  start_sidecar 2
  python3 "$BENCH_PY" wait-follower "$(sidecar_port 2)" 30 ||
    die "sidecar 2 did not become a follower; see $WORK/sidecar-2.log"
  start_exporter
}

measure() {
  python3 "$BENCH_PY" footprint \
    --duration "$DURATION" \
    --scrape-interval "$SCRAPE_INTERVAL" \
    --sample-interval "$SAMPLE_INTERVAL" \
    --psql "$PGBIN/psql" --socket-dir "$PG_DIR" --port "$PRIMARY_PORT" \
    --dbname bench_ctl --server-log "$PG_DIR/primary.log" \
    --proc sidecar-leader "${SIDECAR_PID[1]}" "$(sidecar_url 1 /metrics)" \
    "cp-ha:bench-node-1:" autonomy \
    --proc sidecar-follower "${SIDECAR_PID[2]}" "$(sidecar_url 2 /metrics)" \
    "cp-ha:bench-node-2:" autonomy \
    --proc postgres-exporter "$EXPORTER_PID" \
    "http://127.0.0.1:$EXPORTER_PORT/metrics" bench-pg-exporter postgres
}

main() {
  parse_args "$@"
  bench_init footprint
  need_sidecar
  need_tools jq python3 "$EXPORTER_BIN"
  start_pair
  prepare_database
  start_subjects
  write_header "$(settings_json)"

  say "warm-up ${WARMUP}s, then ${DURATION}s scraped every ${SCRAPE_INTERVAL}s"
  sleep "$WARMUP"
  measure >>"$WORK/rows.jsonl"
  finish
}

main "$@"
