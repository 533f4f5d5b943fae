#!/usr/bin/env bash
# patroni.sh: a disposable Patroni cluster on loopback for the failover suite
# and the lab: one etcd member and two Patroni nodes (node1, node2) managing
# PostgreSQL 15 in synchronous_mode_strict, with track_commit_timestamp on so
# that a checker can order commits.
#
# Each PostgreSQL listens on 127.0.0.1 and on two more loopback addresses,
# one per sidecar ("via" addresses, `via DIR 1|2`), 127.H.L.11 and
# 127.H.L.12 with H.L the base port's two bytes, so that two labs never
# share one. A sidecar that connects through its own address can be cut off
# from the database alone, silently, by `partition DIR ADDR on`: iptables
# drops its packets in both directions, so neither side sees a FIN or a
# reset.
#
# Everything (configs, data, logs, pid files) lives in DIR; the processes
# run as the unprivileged user PostgreSQL needs. See usage() and docs/lab.md.
set -Eeuo pipefail

readonly PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
readonly OS_USER=${PATRONI_LAB_OS_USER:-postgres}
readonly SCOPE=cpha
readonly SUPERUSER=postgres SUPERUSER_PASSWORD=postgres
readonly REPL_USER=replicator REPL_PASSWORD=replica
readonly DBNAME=autonomy
readonly NODES=(node1 node2)
VIA_ADDRS=()
readonly TIMEOUT_S=90

DIR=""
declare -A PORT=()
SUBCMD=""

usage() {
  cat >&2 <<'EOF'
usage: patroni.sh create DIR BASE_PORT    (uses BASE_PORT .. BASE_PORT+5)
       patroni.sh start DIR etcd|node1|node2
       patroni.sh stop DIR etcd|node1|node2     (Patroni stops its server)
       patroni.sh kill DIR node1|node2          (kill -9 Patroni and server)
       patroni.sh kill-postgres DIR node1|node2 (kill -9 the postmaster)
       patroni.sh restart DIR node1|node2       (Patroni restarts the server)
       patroni.sh switchover DIR [CANDIDATE]
       patroni.sh failover DIR CANDIDATE
       patroni.sh leader DIR                    (prints the leader's name)
       patroni.sh wait-healthy DIR [TIMEOUT_S]  (a leader and a sync standby)
       patroni.sh psql DIR node1|node2 [psql args...]
       patroni.sh via DIR 1|2                   (sidecar N's loopback address)
       patroni.sh url DIR node1|node2|multi [VIA_ADDR]
       patroni.sh partition DIR VIA_ADDR on|off
       patroni.sh status DIR
       patroni.sh destroy DIR
EOF
  exit 2
}

die() {
  echo "patroni-lab: $*" >&2
  exit 1
}

on_error() {
  echo "patroni-lab: $SUBCMD failed at line $1: $2" >&2
}
trap 'on_error $LINENO "$BASH_COMMAND"' ERR

# ---------------------------------------------------------------------------
# Small helpers.

as_user() {
  if ((EUID == 0)); then
    (cd / && exec runuser -u "$OS_USER" -- "$@")
  else
    "$@"
  fi
}

now_ms() {
  local t=${EPOCHREALTIME//[!0-9]/}
  echo $((t / 1000))
}

need_node() {
  case ${1:-} in
    node1 | node2) ;;
    *) die "expected node1 or node2, got '${1:-}'" ;;
  esac
}

need_via() {
  local addr
  for addr in "${VIA_ADDRS[@]}"; do
    [[ ${1:-} == "$addr" ]] && return 0
  done
  die "expected a via address (${VIA_ADDRS[*]}), got '${1:-}'"
}

load_dir() {
  [[ -n ${1:-} ]] || usage
  DIR=$(realpath -m -- "$1")
  [[ -f $DIR/ports ]] || die "$DIR is not a patroni lab (no $DIR/ports)"
  local name port
  while read -r name port; do
    PORT[$name]=$port
  done <"$DIR/ports"
  VIA_ADDRS=("${PORT[via1]:-}" "${PORT[via2]:-}")
}

port_busy() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

pid_alive() {
  local pid
  { read -r pid <"$1"; } 2>/dev/null || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  local state
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

read_pid() {
  local pid=""
  { read -r pid <"$1"; } 2>/dev/null || true
  echo "$pid"
}

# Waits up to MS milliseconds for COMMAND to succeed.
wait_for() {
  local ms=$1 deadline
  shift
  deadline=$(($(now_ms) + ms))
  until "$@" 2>/dev/null; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------
# Configuration.

write_ports() {
  local base=$1
  PORT=([etcd]=$base [etcd_peer]=$((base + 1)) [node1]=$((base + 2))
    [node2]=$((base + 3)) [node1_rest]=$((base + 4))
    [node2_rest]=$((base + 5)))
  local net="127.$(((base >> 8) & 255)).$((base & 255))"
  PORT[via1]=$net.11
  PORT[via2]=$net.12
  VIA_ADDRS=("${PORT[via1]}" "${PORT[via2]}")
  local name
  for name in etcd etcd_peer node1 node2 node1_rest node2_rest via1 via2; do
    echo "$name ${PORT[$name]}"
  done >"$DIR/ports"
}

# Patroni's settings. ttl, loop_wait and retry_timeout are the smallest
# Patroni accepts that still satisfy loop_wait + 2 * retry_timeout <= ttl.
write_patroni_config() {
  local node=$1 listen
  listen="127.0.0.1,$(
    IFS=,
    echo "${VIA_ADDRS[*]}"
  ):${PORT[$node]}"
  cat >"$DIR/$node.yml" <<EOF
scope: $SCOPE
name: $node
log:
  level: INFO
restapi:
  listen: 127.0.0.1:${PORT[${node}_rest]}
  connect_address: 127.0.0.1:${PORT[${node}_rest]}
etcd:
  host: 127.0.0.1:${PORT[etcd]}
bootstrap:
  dcs:
    ttl: 20
    loop_wait: 1
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    synchronous_mode_strict: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        track_commit_timestamp: 'on'
        wal_log_hints: 'on'
        synchronous_commit: 'on'
  initdb:
    - encoding: UTF8
    - auth-local: trust
  pg_hba:
    - local all all trust
    - host replication $REPL_USER 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.0/8 scram-sha-256
postgresql:
  listen: '$listen'
  connect_address: 127.0.0.1:${PORT[$node]}
  data_dir: $DIR/$node/data
  bin_dir: $PGBIN
  pgpass: $DIR/$node/pgpass
  authentication:
    replication:
      username: $REPL_USER
      password: $REPL_PASSWORD
    superuser:
      username: $SUPERUSER
      password: $SUPERUSER_PASSWORD
  parameters:
    unix_socket_directories: '$DIR/$node'
    log_min_messages: warning
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
EOF
}

# ---------------------------------------------------------------------------
# Processes: etcd, node1 and node2, each detached with its pid in
# DIR/NAME.pid.

# spawn NAME COMMAND...: runs COMMAND detached as the unprivileged user,
# output appended to DIR/NAME.log. The process writes its own pid to
# DIR/NAME.pid before it execs, so the pid is the server's, not runuser's.
spawn() {
  local name=$1
  shift
  rm -f "$DIR/$name.pid"
  # shellcheck disable=SC2016 # expanded by the inner shell
  as_user setsid bash -c 'echo $$ >"$0" && exec "$@"' "$DIR/$name.pid" "$@" \
    >>"$DIR/$name.log" 2>&1 </dev/null &
  wait_for 5000 test -s "$DIR/$name.pid" || die "$name did not start"
}

start_etcd() {
  pid_alive "$DIR/etcd.pid" && return 0
  spawn etcd etcd --name lab --data-dir "$DIR/etcd" --enable-v2=true \
    --listen-client-urls "http://127.0.0.1:${PORT[etcd]}" \
    --advertise-client-urls "http://127.0.0.1:${PORT[etcd]}" \
    --listen-peer-urls "http://127.0.0.1:${PORT[etcd_peer]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${PORT[etcd_peer]}" \
    --initial-cluster "lab=http://127.0.0.1:${PORT[etcd_peer]}"
  wait_for 20000 curl -sf "http://127.0.0.1:${PORT[etcd]}/health" >/dev/null ||
    die "etcd did not become healthy; see $DIR/etcd.log"
}

start_patroni() {
  local node=$1
  pid_alive "$DIR/$node.pid" && return 0
  spawn "$node" patroni "$DIR/$node.yml"
  wait_for 20000 rest "$node" /liveness >/dev/null ||
    die "Patroni $node does not answer on its REST port; see $DIR/$node.log"
}

# SIGTERM, then SIGKILL after 30 s; Patroni stops its PostgreSQL on TERM.
stop_process() {
  local name=$1 pid
  pid=$(read_pid "$DIR/$name.pid")
  pid_alive "$DIR/$name.pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for 30000 pid_dead "$DIR/$name.pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait_for 5000 pid_dead "$DIR/$name.pid" || true
  fi
}

pid_dead() { ! pid_alive "$1"; }

postmaster_pid() {
  local pid=""
  { read -r pid <"$DIR/$1/data/postmaster.pid"; } 2>/dev/null || true
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    echo "$pid"
  fi
}

rest() {
  curl -sf --max-time 2 "http://127.0.0.1:${PORT[${1}_rest]}$2"
}

# The /cluster view from whichever node answers.
cluster_json() {
  rest node1 /cluster || rest node2 /cluster
}

is_leader() { [[ $(leader_name 2>/dev/null) == "$1" ]]; }

leader_name() {
  cluster_json | jq -r '.members[] | select(.role == "leader") |
    select(.state == "running") | .name'
}

healthy() {
  local json
  json=$(cluster_json) || return 1
  jq -e '([.members[] | select(.role == "leader" and .state == "running")]
            | length == 1) and
         ([.members[] | select(.role == "sync_standby" and
            (.state == "streaming" or .state == "running"))] | length == 1)' \
    <<<"$json" >/dev/null || return 1
  # Patroni reports the role before the server streams: ask the leader.
  local leader
  leader=$(leader_name)
  [[ $(sql "$leader" "SELECT count(*) FROM pg_stat_replication
    WHERE sync_state = 'sync' AND state = 'streaming'") == 1 ]]
}

sql() {
  local node=$1 query=$2
  PGCONNECT_TIMEOUT=3 PGOPTIONS='-c statement_timeout=10s' \
    "$PGBIN/psql" -X -Atq -v ON_ERROR_STOP=1 -h "$DIR/$node" \
    -p "${PORT[$node]}" -U "$SUPERUSER" -d postgres -c "$query"
}

patronictl_() {
  as_user patronictl -c "$DIR/node1.yml" "$@"
}

# ---------------------------------------------------------------------------
# Subcommands.

cmd_create() {
  (($# == 2)) || usage
  DIR=$(realpath -m -- "$1")
  [[ $2 =~ ^[0-9]+$ ]] && (($2 >= 1024 && $2 <= 65530)) ||
    die "BASE_PORT must be a number in 1024..65530"
  if [[ -e $DIR && -n $(ls -A "$DIR" 2>/dev/null) ]]; then
    die "$DIR exists and is not empty"
  fi
  local p
  for ((p = $2; p <= $2 + 5; p++)); do
    ! port_busy "$p" || die "port $p on 127.0.0.1 is busy; pick another base"
  done
  command -v patroni >/dev/null ||
    die "patroni not found; run scripts/install-deps.sh"

  mkdir -p "$DIR"
  write_ports "$2"
  local node
  for node in "${NODES[@]}"; do
    mkdir -p "$DIR/$node"
    write_patroni_config "$node"
  done
  if ((EUID == 0)); then
    chown -R "$OS_USER:" "$DIR"
  fi
  chmod 0755 "$DIR"

  start_etcd
  start_patroni node1
  wait_for $((TIMEOUT_S * 1000)) is_leader node1 ||
    die "node1 did not bootstrap; see $DIR/node1.log"
  start_patroni node2
  cmd_wait_healthy "$DIR" "$TIMEOUT_S"
  sql node1 "CREATE DATABASE $DBNAME" >/dev/null
}

cmd_start() {
  (($# == 2)) || usage
  load_dir "$1"
  case $2 in
    etcd) start_etcd ;;
    node1 | node2) start_patroni "$2" ;;
    *) die "expected etcd, node1 or node2, got '$2'" ;;
  esac
}

cmd_stop() {
  (($# == 2)) || usage
  load_dir "$1"
  case $2 in
    etcd | node1 | node2) stop_process "$2" ;;
    *) die "expected etcd, node1 or node2, got '$2'" ;;
  esac
}

# Patroni and its postmaster die at once, as when a host loses power.
cmd_kill() {
  (($# == 2)) || usage
  load_dir "$1"
  need_node "$2"
  local patroni_pid postmaster
  patroni_pid=$(read_pid "$DIR/$2.pid")
  postmaster=$(postmaster_pid "$2")
  kill -9 ${patroni_pid:+"$patroni_pid"} ${postmaster:+"$postmaster"} \
    2>/dev/null || true
}

cmd_kill_postgres() {
  (($# == 2)) || usage
  load_dir "$1"
  need_node "$2"
  local pid
  pid=$(postmaster_pid "$2")
  [[ -n $pid ]] || die "$2 has no running postmaster"
  kill -9 "$pid"
}

cmd_switchover() {
  (($# == 1 || $# == 2)) || usage
  load_dir "$1"
  local leader candidate=${2:-}
  leader=$(leader_name) || die "no leader to switch over from"
  if [[ -z $candidate ]]; then
    candidate=$([[ $leader == node1 ]] && echo node2 || echo node1)
  fi
  patronictl_ switchover --force --leader "$leader" \
    --candidate "$candidate" "$SCOPE" >/dev/null
}

cmd_restart() {
  (($# == 2)) || usage
  load_dir "$1"
  need_node "$2"
  patronictl_ restart --force "$SCOPE" "$2" >/dev/null
}

cmd_failover() {
  (($# == 2)) || usage
  load_dir "$1"
  need_node "$2"
  patronictl_ failover --force --candidate "$2" "$SCOPE" >/dev/null
}

cmd_leader() {
  (($# == 1)) || usage
  load_dir "$1"
  local leader
  leader=$(leader_name) || true
  [[ -n $leader ]] || die "no running leader"
  echo "$leader"
}

cmd_wait_healthy() {
  (($# == 1 || $# == 2)) || usage
  load_dir "$1"
  local timeout_s=${2:-$TIMEOUT_S}
  wait_for $((timeout_s * 1000)) healthy ||
    die "no leader with a streaming sync standby after ${timeout_s} s: $(
      cluster_json | jq -c '[.members[] | {name, role, state}]' 2>/dev/null)"
}

cmd_psql() {
  (($# >= 2)) || usage
  load_dir "$1"
  need_node "$2"
  local node=$2
  shift 2
  "$PGBIN/psql" -X -h "$DIR/$node" -p "${PORT[$node]}" -U "$SUPERUSER" \
    -d "$DBNAME" "$@"
}

# libpq URLs for the sidecars; multi lists both nodes and asks for the
# writable one, as a pod would.
cmd_url() {
  (($# == 2 || $# == 3)) || usage
  load_dir "$1"
  local via=${3:-127.0.0.1}
  [[ $via == 127.0.0.1 ]] || need_via "$via"
  local auth="$SUPERUSER:$SUPERUSER_PASSWORD"
  case $2 in
    node1 | node2) echo "postgresql://$auth@$via:${PORT[$2]}/$DBNAME" ;;
    multi)
      local hosts="$via:${PORT[node1]},$via:${PORT[node2]}"
      echo "postgresql://$auth@$hosts/$DBNAME?target_session_attrs=read-write"
      ;;
    *) die "expected node1, node2 or multi, got '$2'" ;;
  esac
}

# iptables rules that drop every packet to and from VIA_ADDR: the sidecar
# using it loses the database without a FIN or reset reaching either side.
partition_rules() {
  echo "OUTPUT -d $1/32 -j DROP"
  echo "OUTPUT -s $1/32 -j DROP"
}

cmd_partition() {
  (($# == 3)) || usage
  load_dir "$1"
  need_via "$2"
  local rule
  local -a spec
  while read -r rule; do
    read -ra spec <<<"$rule"
    case $3 in
      on) iptables -C "${spec[@]}" 2>/dev/null || iptables -I "${spec[@]}" ;;
      off)
        while iptables -C "${spec[@]}" 2>/dev/null; do
          iptables -D "${spec[@]}"
        done
        ;;
      *) die "expected on or off, got '$3'" ;;
    esac
  done < <(partition_rules "$2")
}

cmd_via() {
  (($# == 2)) || usage
  load_dir "$1"
  case $2 in
    1 | 2) echo "${PORT[via$2]}" ;;
    *) die "expected 1 or 2, got '$2'" ;;
  esac
}

cmd_status() {
  (($# == 1)) || usage
  load_dir "$1"
  patronictl_ list "$SCOPE"
}

cmd_destroy() {
  (($# == 1)) || usage
  DIR=$(realpath -m -- "$1")
  [[ -d $DIR ]] || return 0
  if [[ -f $DIR/ports ]]; then
    load_dir "$DIR"
    local addr
    for addr in "${VIA_ADDRS[@]}"; do
      cmd_partition "$DIR" "$addr" off
    done
    local name pm
    for name in node1 node2; do
      stop_process "$name"
      pm=$(postmaster_pid "$name")
      if [[ -n $pm ]]; then
        kill -9 "$pm" 2>/dev/null || true
        wait_for 10000 bash -c "! kill -0 $pm" || true
      fi
    done
    stop_process etcd
  fi
  # A server child may still be writing its last file for a moment.
  wait_for 10000 rm -rf -- "$DIR" || rm -rf -- "$DIR"
}

main() {
  (($# >= 1)) || usage
  SUBCMD=$1
  shift
  case $SUBCMD in
    create) cmd_create "$@" ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    kill) cmd_kill "$@" ;;
    kill-postgres) cmd_kill_postgres "$@" ;;
    switchover) cmd_switchover "$@" ;;
    restart) cmd_restart "$@" ;;
    failover) cmd_failover "$@" ;;
    leader) cmd_leader "$@" ;;
    wait-healthy) cmd_wait_healthy "$@" ;;
    psql) cmd_psql "$@" ;;
    url) cmd_url "$@" ;;
    via) cmd_via "$@" ;;
    partition) cmd_partition "$@" ;;
    status) cmd_status "$@" ;;
    destroy) cmd_destroy "$@" ;;
    *) usage ;;
  esac
}

main "$@"
