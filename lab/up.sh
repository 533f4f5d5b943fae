#!/usr/bin/env bash
# The main job, end to end: installs what is missing, builds the sidecar,
# starts a PostgreSQL 15 primary with a synchronous standby on loopback and
# two sidecars against it, shows which node leads, the epoch and
# write-readiness, performs a graceful failover to the other node, and then
# leaves the lab running until Ctrl-C (or lab/down.sh from another shell).
#
#   lab/up.sh             PostgreSQL pair made with pg_basebackup
#   lab/up.sh --patroni   etcd and two Patroni nodes instead; the demonstration
#                         is a `patronictl switchover` that the sidecars follow
set -euo pipefail
# shellcheck source=lab/lab-env.sh
source "$(dirname "$0")/lab-env.sh"

say() { printf '\n== %s\n' "$*"; }

build() {
  say "installing what is missing and building"
  "$REPO_DIR/scripts/install-deps.sh"
  cmake -S "$REPO_DIR" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target cp-ha-sidecar >/dev/null
}

start_database() {
  say "starting PostgreSQL 15: primary :$PRIMARY_PORT, sync standby :$STANDBY_PORT"
  mkdir -p "$LAB_DIR"
  chmod 755 "$LAB_DIR"
  "$PGPAIR" create "$PG_DIR" "$PRIMARY_PORT" "$STANDBY_PORT"
  # The URL holds the password: give it to the sidecars as a file, so that
  # it shows up neither in ps nor in their environment.
  (umask 077 && "$PGPAIR" url "$PG_DIR" multi >"$LAB_DIR/postgres-url" &&
    head -c 24 /dev/urandom | base64 >"$LAB_DIR/admin-token")
}

# Patroni mode: sidecar N reaches the database through its own loopback
# address (lab/patroni.sh), so that one can be partitioned alone.
start_patroni() {
  say "starting etcd and two Patroni nodes" \
    "(PostgreSQL 15, synchronous_mode_strict)"
  mkdir -p "$LAB_DIR"
  chmod 755 "$LAB_DIR"
  "$PATRONI" create "$PATRONI_DIR" "$PATRONI_BASE_PORT"
  "$PATRONI" status "$PATRONI_DIR"
  local index
  for index in 1 2; do
    local via
    via=$("$PATRONI" via "$PATRONI_DIR" "$index")
    (umask 077 && "$PATRONI" url "$PATRONI_DIR" multi "$via" \
      >"$LAB_DIR/postgres-url-$index")
  done
  (umask 077 && head -c 24 /dev/urandom | base64 >"$LAB_DIR/admin-token")
}

# lab_psql ARGS...: psql on the writable node of whichever lab runs.
lab_psql() {
  if [[ -n $PATRONI_MODE ]]; then
    "$PATRONI" psql "$PATRONI_DIR" "$("$PATRONI" leader "$PATRONI_DIR")" "$@"
  else
    "$PGPAIR" psql "$PG_DIR" primary "$@"
  fi
}

# start_sidecar INDEX: node INDEX (1 or 2) on its port.
start_sidecar() {
  local index=$1 port=${SIDECAR_PORTS[$(($1 - 1))]}
  local url_file="$LAB_DIR/postgres-url"
  [[ -z $PATRONI_MODE ]] || url_file="$LAB_DIR/postgres-url-$index"
  "$SIDECAR_BIN" \
    --postgres-url-file "$url_file" \
    --holder-id "cp-node-$index:$port" \
    --listen "127.0.0.1:$port" \
    --min-sync-replicas 1 \
    --quorum-monitor-interval 1s \
    --admin-token-file "$LAB_DIR/admin-token" \
    >>"$LAB_DIR/sidecar-$index.log" 2>&1 &
  echo $! >"$LAB_DIR/sidecar-$index.pid"
}

http_code() { curl -s -o /dev/null -w '%{http_code}' "$1" || true; }

# leader_index: prints 1 or 2 for the node that is write-ready, or nothing.
leader_index() {
  local index
  for index in 1 2; do
    if [[ $(http_code "http://127.0.0.1:${SIDECAR_PORTS[$((index - 1))]}/v1/health/write-ready") == 200 ]]; then
      echo "$index"
      return
    fi
  done
}

wait_for_leader() {
  local leader=""
  for _ in $(seq 100); do
    leader=$(leader_index)
    [[ -n $leader && $leader != "${1:-}" ]] && { echo "$leader"; return; }
    sleep 0.1
  done
  echo "lab: no write-ready sidecar after 10 s; see $LAB_DIR/sidecar-*.log" >&2
  return 1
}

show_nodes() {
  local index port
  for index in 1 2; do
    port=${SIDECAR_PORTS[$((index - 1))]}
    printf 'cp-node-%s  leader: %s\n' "$index" \
      "$(curl -s "http://127.0.0.1:$port/v1/health/leader" | jq -c .)"
    printf '           write-ready: %s %s\n' \
      "$(http_code "http://127.0.0.1:$port/v1/health/write-ready")" \
      "$(curl -s "http://127.0.0.1:$port/v1/health/write-ready" | jq -c .)"
  done
  echo "replication (on the primary):"
  lab_psql -Atqc \
    "SELECT application_name || '|' || state || '|' || sync_state
       FROM pg_stat_replication"
}

failover() {
  local old=$1 new started ended
  local url="http://127.0.0.1:${SIDECAR_PORTS[$((old - 1))]}"
  say "operator view of the leader: cp-ha-sidecar ha status"
  "$SIDECAR_BIN" ha status --orchestrator-url "$url"
  say "graceful failover: cp-ha-sidecar ha failover trigger on cp-node-$old"
  started=$(date +%s%N)
  "$SIDECAR_BIN" ha failover trigger --orchestrator-url "$url" \
    --operator lab --reason "lab demonstration" \
    --token-file "$LAB_DIR/admin-token"
  new=$(wait_for_leader "$old")
  ended=$(date +%s%N)
  echo "cp-node-$new is write-ready $(((ended - started) / 1000000)) ms later"
  sleep 1.2
  show_nodes
  show_epochs
}

show_epochs() {
  echo "epoch history:"
  lab_psql -c \
    "SELECT epoch, holder_id, acquired_at, resigned_at, notes
       FROM leader_epochs ORDER BY epoch DESC LIMIT 10;"
}

# Patroni moves the primary; the sidecars lose their lock sessions with the
# old one and one of them leads on the new primary at a higher epoch.
patroni_switchover() {
  local started ended
  say "patronictl switchover: the primary moves to the other node"
  started=$(date +%s%N)
  "$PATRONI" switchover "$PATRONI_DIR"
  "$PATRONI" wait-healthy "$PATRONI_DIR" 60
  wait_for_leader "" >/dev/null
  ended=$(date +%s%N)
  echo "a sidecar is write-ready again $(((ended - started) / 1000000)) ms" \
    "after the switchover began"
  "$PATRONI" status "$PATRONI_DIR"
  sleep 1.2
  show_nodes
  show_epochs
}

print_urls() {
  say "the lab is running"
  local port
  for port in "${SIDECAR_PORTS[@]}"; do
    echo "  sidecar   http://127.0.0.1:$port/  (/metrics, /v1/health/...)"
  done
  if [[ -n $PATRONI_MODE ]]; then
    echo "  patroni   lab/patroni.sh status $PATRONI_DIR (switchover, kill-postgres, partition ...)"
  else
    echo "  database  $("$PGPAIR" url "$PG_DIR" multi | sed 's/:[^:@]*@/:***@/')"
  fi
  echo "  logs      $LAB_DIR/sidecar-1.log $LAB_DIR/sidecar-2.log"
  echo "  CLI       build/exporter/cp-ha-sidecar ha status --orchestrator-url http://127.0.0.1:${SIDECAR_PORTS[0]}"
  echo "            (admin token for failover: --token-file $LAB_DIR/admin-token)"
  echo "Ctrl-C stops it, or run lab/down.sh from another shell."
}

# Blocks until Ctrl-C, or until lab/down.sh removed the lab.
wait_until_stopped() {
  trap '"$REPO_DIR/lab/down.sh"; exit 0' INT TERM
  while [[ -d $LAB_DIR ]]; do sleep 1; done
}

PATRONI_MODE=""

main() {
  case "${1:-}" in
    "") ;;
    --patroni) PATRONI_MODE=1 ;;
    *) echo "usage: lab/up.sh [--patroni]" >&2; exit 2 ;;
  esac
  build
  "$REPO_DIR/lab/down.sh" >/dev/null
  if [[ -n $PATRONI_MODE ]]; then start_patroni; else start_database; fi
  say "starting two sidecars"
  start_sidecar 1
  start_sidecar 2
  local leader
  leader=$(wait_for_leader)
  sleep 1.2  # one quorum-monitor interval: the follower reads the new row
  say "cp-node-$leader leads"
  show_nodes
  if [[ -n $PATRONI_MODE ]]; then patroni_switchover; else failover "$leader"; fi
  print_urls
  wait_until_stopped
}

main "$@"
