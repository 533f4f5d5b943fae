# bench/lib.sh: what the benchmark scripts share. Sourced, not run.
#
#   settings    ports, paths and the sidecar's timing flags, each overridable
#               by an environment variable (docs/performance.md lists them)
#   cleanup     one EXIT trap that stops exactly what the script started:
#               the pids it recorded, its iptables rules, its PostgreSQL
#               pair, and removes its work directory
#   the lab     a PostgreSQL 15 primary + synchronous standby (lab/pgpair.sh),
#               sidecars and Debian's prometheus-postgres-exporter
#   results     a header (machine, versions, settings) plus one JSON line per
#               measurement, assembled into RESULTS_DIR/NAME.json
#
# shellcheck shell=bash
# shellcheck disable=SC2034  # the globals set here are read by the scripts

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
readonly BENCH_DIR REPO_DIR
readonly PGPAIR=$REPO_DIR/lab/pgpair.sh
readonly BENCH_PY=$BENCH_DIR/bench.py
readonly PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

PRIMARY_PORT=${CPHA_BENCH_PRIMARY_PORT:-26432}
STANDBY_PORT=${CPHA_BENCH_STANDBY_PORT:-26433}
read -r -a SIDECAR_PORTS <<<"${CPHA_BENCH_SIDECAR_PORTS:-19088 19089}"
EXPORTER_PORT=${CPHA_BENCH_EXPORTER_PORT:-19187}
RESULTS_DIR=${CPHA_BENCH_OUT:-/tmp/cp-ha-bench-results}
SIDECAR_BIN=${CP_HA_SIDECAR:-$REPO_DIR/build/exporter/cp-ha-sidecar}
EXPORTER_BIN=${CPHA_BENCH_EXPORTER:-/usr/bin/prometheus-postgres-exporter}
WRK_BIN=${CPHA_BENCH_WRK:-/usr/bin/wrk}

# The flags every sidecar gets: its election and monitoring timing (the
# product's defaults unless overridden) and one synchronous standby required
# for write readiness, as in the lab. Passed explicitly so that the results
# record them.
SIDECAR_FLAGS=(
  --keepalive-interval "${CPHA_BENCH_KEEPALIVE_INTERVAL:-1s}"
  --campaign-interval "${CPHA_BENCH_CAMPAIGN_INTERVAL:-1s}"
  --lock-session-timeout "${CPHA_BENCH_LOCK_SESSION_TIMEOUT:-3s}"
  --stepdown-margin "${CPHA_BENCH_STEPDOWN_MARGIN:-1s}"
  --resign-holdoff "${CPHA_BENCH_RESIGN_HOLDOFF:-3s}"
  --quorum-monitor-interval "${CPHA_BENCH_QUORUM_MONITOR_INTERVAL:-1s}"
  --audit-interval "${CPHA_BENCH_AUDIT_INTERVAL:-5s}"
  --db-timeout "${CPHA_BENCH_DB_TIMEOUT:-2s}"
  --connect-timeout "${CPHA_BENCH_CONNECT_TIMEOUT:-3s}"
  --min-sync-replicas 1
)

BENCH_NAME=$(basename "$0" .sh)
WORK=""
PG_DIR=""
declare -A BENCH_PIDS=()   # pid -> its start time, for everything started here
declare -a BENCH_RULES=()  # iptables OUTPUT rule specs inserted here
declare -a SIDECAR_PID=()  # index (1, 2) -> pid of that sidecar
EXPORTER_PID=""

# ---------------------------------------------------------------------------
# Messages.

say() { printf '[%s %(%H:%M:%S)T] %s\n' "$BENCH_NAME" -1 "$*" >&2; }

die() {
  printf '%s: error: %s\n' "${BENCH_NAME:-bench}" "$*" >&2
  exit 1
}

# print_usage SCRIPT: the script's header comment, without the '#'.
print_usage() {
  sed -n '2,/^set -euo/p' "$1" | sed '$d; s/^# \{0,1\}//'
}

# need_value FLAG VALUE: VALUE of a flag, or a clear error when missing.
need_value() {
  [[ -n ${2:-} && ${2:0:2} != -- ]] || die "$1 needs a value"
  printf '%s' "$2"
}

need_int() {
  [[ $2 =~ ^[0-9]+$ ]] || die "$1 must be a whole number, got '$2'"
}

# ---------------------------------------------------------------------------
# Cleanup.

# Background processes are disowned right after they start: bash then
# reaps them without printing "Killed" when a trial kills one. They are
# known by pid plus start time, so that a reused pid is never signalled.

# proc_start PID: the start time of PID (clock ticks since boot), or nothing.
proc_start() {
  local stat
  local -a fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  read -r -a fields <<<"$stat"
  echo "${fields[19]}"
}

# track_pid PID: remembers PID as ours, for the cleanup.
track_pid() { BENCH_PIDS[$1]=$(proc_start "$1"); }
untrack_pid() { unset "BENCH_PIDS[$1]"; }

# ours PID: PID is a process this script started and that still runs.
ours() {
  [[ -n ${BENCH_PIDS[$1]:-} && $(proc_start "$1") == "${BENCH_PIDS[$1]}" ]]
}

# await_exit PID SECONDS: true once PID has exited (or is a zombie).
await_exit() {
  local pid=$1 stat
  for _ in $(seq $(($2 * 10))); do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    [[ ${stat:0:1} == Z ]] && return 0
    sleep 0.1
  done
  return 1
}

# stop_pid PID: SIGTERM, then SIGKILL after 5 s, if PID is still ours.
stop_pid() {
  local pid=$1
  if ours "$pid" && kill -TERM "$pid" 2>/dev/null; then
    await_exit "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
    await_exit "$pid" 5 || say "pid $pid survives SIGKILL"
  fi
  untrack_pid "$pid"
}

drop_rules() {
  local spec
  local -a rule
  for spec in "${BENCH_RULES[@]}"; do
    read -r -a rule <<<"$spec"
    while iptables -C OUTPUT "${rule[@]}" 2>/dev/null; do
      iptables -D OUTPUT "${rule[@]}" || break
    done
  done
  BENCH_RULES=()
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  ((${#BENCH_RULES[@]} == 0)) || drop_rules
  local pid
  for pid in "${!BENCH_PIDS[@]}"; do stop_pid "$pid"; done
  if [[ -n $PG_DIR && -f $PG_DIR/ports ]]; then
    "$PGPAIR" destroy "$PG_DIR" >/dev/null 2>&1
  fi
  if [[ -n $WORK ]]; then
    if ((rc != 0)) || [[ ${CPHA_BENCH_KEEP:-0} == 1 ]]; then
      say "kept $WORK for its logs"
    else
      rm -rf -- "$WORK"
    fi
  fi
  exit "$rc"
}

# bench_init NAME: names the run, makes its work directory under /tmp and
# installs the cleanup.
bench_init() {
  BENCH_NAME=$1
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  WORK=$(mktemp -d "/tmp/cp-ha-bench-$BENCH_NAME.XXXXXX")
  # The PostgreSQL servers run as the postgres user, who must enter it.
  chmod 755 "$WORK"
  PG_DIR=$WORK/pg
  : >"$WORK/rows.jsonl"
  mkdir -p "$RESULTS_DIR"
}

need_tools() {
  local tool
  for tool in "$@"; do
    [[ -x $tool ]] || command -v "$tool" >/dev/null 2>&1 ||
      die "$tool is not installed (scripts/install-deps.sh installs it)"
  done
}

need_sidecar() {
  [[ -x $SIDECAR_BIN ]] ||
    die "no sidecar binary at $SIDECAR_BIN; build it or pass --sidecar PATH"
}

# ---------------------------------------------------------------------------
# The lab: a PostgreSQL pair, sidecars, the postgres exporter.

port_free() {
  ! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# start_pair: primary on PRIMARY_PORT with its synchronous standby, the
# sidecars' URL and admin token in WORK.
start_pair() {
  say "PostgreSQL 15 primary :$PRIMARY_PORT + sync standby :$STANDBY_PORT"
  "$PGPAIR" create "$PG_DIR" "$PRIMARY_PORT" "$STANDBY_PORT" \
    >"$WORK/pgpair.log" 2>&1 ||
    die "lab/pgpair.sh create failed: $(tail -n 5 "$WORK/pgpair.log")"
  (umask 077 &&
    "$PGPAIR" url "$PG_DIR" multi >"$WORK/postgres-url" &&
    head -c 24 /dev/urandom | base64 >"$WORK/admin-token")
}

# sql DB QUERY: one query on the primary over its unix socket (trust).
sql() {
  "$PGBIN/psql" -X -Atq -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PRIMARY_PORT" \
    -U postgres -d "$1" -c "$2"
}

sidecar_port() { echo "${SIDECAR_PORTS[$(($1 - 1))]}"; }
sidecar_url() { echo "http://127.0.0.1:$(sidecar_port "$1")$2"; }

# start_sidecar INDEX [FLAG...]: node bench-node-INDEX on its port; returns
# once it serves HTTP.
start_sidecar() {
  local index=$1 port
  shift
  port=$(sidecar_port "$index")
  port_free "$port" || die "port $port is busy; set CPHA_BENCH_SIDECAR_PORTS"
  "$SIDECAR_BIN" \
    --postgres-url-file "$WORK/postgres-url" \
    --holder-id "bench-node-$index" \
    --listen "127.0.0.1:$port" \
    --admin-token-file "$WORK/admin-token" \
    "${SIDECAR_FLAGS[@]}" "$@" \
    >>"$WORK/sidecar-$index.log" 2>&1 &
  SIDECAR_PID[index]=$!
  disown
  track_pid "${SIDECAR_PID[index]}"
  python3 "$BENCH_PY" wait-http "$(sidecar_url "$index" /v1/health/live)" \
    200 20 || die "sidecar $index does not answer; see $WORK/sidecar-$index.log"
  kill -0 "${SIDECAR_PID[index]}" 2>/dev/null ||
    die "sidecar $index exited; see $WORK/sidecar-$index.log"
}

# wait_leader SECONDS: prints the index of the one write-ready sidecar.
wait_leader() {
  local ports=()
  local index
  for index in "${!SIDECAR_PID[@]}"; do
    ports+=("$(sidecar_port "$index")")
  done
  python3 "$BENCH_PY" leader "$1" "${ports[@]}" ||
    die "no single write-ready sidecar; see $WORK/sidecar-*.log"
}

# start_exporter: the Debian postgres exporter on EXPORTER_PORT, with its
# defaults, against the primary's "postgres" database; its sessions are
# named bench-pg-exporter so that they can be counted.
start_exporter() {
  port_free "$EXPORTER_PORT" ||
    die "port $EXPORTER_PORT is busy; set CPHA_BENCH_EXPORTER_PORT"
  local dsn="postgresql://postgres:postgres@127.0.0.1:$PRIMARY_PORT/postgres"
  dsn+="?sslmode=disable&application_name=bench-pg-exporter"
  DATA_SOURCE_NAME=$dsn "$EXPORTER_BIN" \
    --web.listen-address="127.0.0.1:$EXPORTER_PORT" \
    >>"$WORK/exporter.log" 2>&1 &
  EXPORTER_PID=$!
  disown
  track_pid "$EXPORTER_PID"
  python3 "$BENCH_PY" wait-http "http://127.0.0.1:$EXPORTER_PORT/metrics" \
    200 20 ||
    die "the postgres exporter does not answer; see $WORK/exporter.log"
}

# ---------------------------------------------------------------------------
# Results.

# write_header JSON_SETTINGS: machine, versions and the given settings.
write_header() {
  local machine versions
  machine=$(python3 "$BENCH_PY" machine)
  versions=$(jq -n \
    --arg sidecar "$("$SIDECAR_BIN" --version 2>&1 | head -n 1)" \
    --arg postgres "$("$PGBIN/postgres" --version | head -n 1)" \
    --arg exporter "$("$EXPORTER_BIN" --version 2>&1 | head -n 1)" \
    --arg wrk "$("$WRK_BIN" -v 2>&1 | head -n 1)" \
    --arg pgbench "$("$PGBIN/pgbench" --version | head -n 1)" \
    '$ARGS.named')
  jq -n --arg name "$BENCH_NAME" --argjson machine "$machine" \
    --argjson versions "$versions" --argjson settings "$1" \
    --arg started "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    '{benchmark: $name, started_at: $started, machine: $machine,
      versions: $versions, settings: $settings}' >"$WORK/header.json"
}

# sidecar_flags_json: the sidecar flags of SIDECAR_FLAGS as a JSON object.
sidecar_flags_json() {
  printf '%s\n' "${SIDECAR_FLAGS[@]}" |
    jq -Rn '[[inputs] | _nwise(2) | {key: (.[0] | ltrimstr("--")),
             value: .[1]}] | from_entries'
}

# finish: RESULTS_DIR/NAME.json from the header and the rows; prints the
# tables.
finish() {
  local result=$RESULTS_DIR/$BENCH_NAME.json
  python3 "$BENCH_PY" assemble "$WORK/header.json" "$WORK/rows.jsonl" \
    >"$result"
  python3 "$BENCH_PY" table "$result"
  say "results in $result"
}
