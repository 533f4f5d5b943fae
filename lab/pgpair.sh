#!/usr/bin/env bash
# pgpair.sh: a disposable PostgreSQL 15 primary plus a synchronous streaming
# standby on loopback, for the lab and the integration tests.
#
# Everything (data directories, unix sockets, logs, the port file) lives in
# DIR, so a pair is removed by removing DIR. See usage() for the commands and
# docs/lab.md for users, passwords and how to connect.
set -Eeuo pipefail

readonly PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
# PostgreSQL refuses to run as root; as root we run the servers as this user.
readonly PG_OS_USER=${PGPAIR_OS_USER:-postgres}
readonly SUPERUSER=postgres SUPERUSER_PASSWORD=postgres
readonly REPL_USER=replicator REPL_PASSWORD=replica
readonly DBNAME=autonomy
readonly STANDBY_APP=standby1 STANDBY_SLOT=standby1_slot
readonly NODES=(primary standby)
readonly SERVER_TIMEOUT_S=60
# A socket path must fit in sockaddr_un.sun_path (108 bytes with the NUL).
readonly MAX_SOCKET_PATH=107

DIR=""
declare -A PORT=()
SUBCMD=""
LAST_ERR=""
REPORTED=0
CREATING=0

usage() {
  cat >&2 <<'EOF'
usage: pgpair.sh create DIR PRIMARY_PORT STANDBY_PORT
       pgpair.sh start DIR primary|standby
       pgpair.sh stop DIR primary|standby [fast|immediate]
       pgpair.sh kill DIR primary|standby
       pgpair.sh promote DIR
       pgpair.sh wait-sync DIR [TIMEOUT_S]
       pgpair.sh psql DIR primary|standby [psql args...]
       pgpair.sh url DIR primary|standby|multi
       pgpair.sh status DIR
       pgpair.sh destroy DIR
EOF
  REPORTED=1
  exit "${1:-2}"
}

# ---------------------------------------------------------------------------
# Errors: exactly one "pgpair:" line on stderr, then (maybe) a log tail.

die() {
  echo "pgpair: $*" >&2
  REPORTED=1
  exit 1
}

show_tail() {
  local log=$1
  [[ -s $log ]] || return 0
  echo "--- last 20 lines of $log ---" >&2
  tail -n 20 "$log" >&2
}

die_with_log() {
  local msg=$1 log=$2
  echo "pgpair: $msg" >&2
  REPORTED=1
  show_tail "$log"
  exit 1
}

# Any failure that no die() explained still gets one line naming the command.
on_exit() {
  local rc=$?
  (( rc == 0 )) && return 0
  if (( ! REPORTED )); then
    echo "pgpair: $SUBCMD failed (${LAST_ERR:-exit $rc})" >&2
  fi
  # A half-made pair must not leave servers behind; DIR stays for its logs.
  if (( CREATING )); then
    abort_create
  fi
  return "$rc"
}

trap 'LAST_ERR="line $LINENO: $BASH_COMMAND"' ERR
trap on_exit EXIT

# ---------------------------------------------------------------------------
# Small helpers.

# Runs a PostgreSQL binary as the unprivileged user when we are root. cd /
# because the tools complain when the caller's cwd (e.g. /root) is unreadable.
as_pg() {
  if (( EUID == 0 )); then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    "$@"
  fi
}

now_ms() {
  local t=${EPOCHREALTIME//[!0-9]/}
  echo $(( t / 1000 ))
}

is_port() {
  [[ $1 =~ ^[0-9]+$ ]] && (( $1 >= 1 && $1 <= 65535 ))
}

need_node() {
  case ${1:-} in
    primary|standby) ;;
    *) die "expected primary or standby, got '${1:-}'" ;;
  esac
}

data_dir() { echo "$DIR/$1"; }
log_file() { echo "$DIR/$1.log"; }

# Prints the postmaster pid of NODE if it is alive, else nothing. A zombie
# counts as dead: it holds nothing, but kill -0 would still find it.
postmaster_pid() {
  local pidfile pid state comm=""
  pidfile="$(data_dir "$1")/postmaster.pid"
  { read -r pid <"$pidfile"; } 2>/dev/null || return 0
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  state=$(proc_state "$pid")
  { read -r comm <"/proc/$pid/comm"; } 2>/dev/null || true
  # The comm check guards against a stale pid file whose pid was reused.
  if [[ -n $state && $state != Z && $comm == postgres* ]]; then
    echo "$pid"
  fi
  return 0
}

# The state letter from /proc/PID/stat ("" if gone); the command name may
# contain spaces and parentheses, so cut after the last ") ".
proc_state() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0
  stat=${stat##*) }
  echo "${stat%% *}"
}

# Pids whose parent is $1, read from /proc (procps may be absent).
children_of() {
  local stat_file stat rest pid ppid
  for stat_file in /proc/[0-9]*/stat; do
    { read -r stat <"$stat_file"; } 2>/dev/null || continue
    rest=${stat##*) }
    read -r _ ppid _ <<<"$rest"
    pid=${stat_file#/proc/}
    [[ $ppid == "$1" ]] && echo "${pid%/stat}"
  done
  return 0
}

is_running() {
  [[ -n $(postmaster_pid "$1") ]]
}

# Internal queries go over the unix socket in DIR (trust), never wait for a
# synchronous standby and give up rather than hang.
sql_local() {
  local node=$1 query=$2
  PGCONNECT_TIMEOUT=3 \
    PGOPTIONS='-c synchronous_commit=local -c statement_timeout=10s' \
    "$PGBIN/psql" -X -Atq -v ON_ERROR_STOP=1 -h "$DIR" -p "${PORT[$node]}" \
    -U "$SUPERUSER" -d postgres -c "$query"
}

# ---------------------------------------------------------------------------
# DIR and its port file.

# Sets DIR (absolute, so later commands work from any cwd) and, when the pair
# exists, PORT from DIR/ports.
load_dir() {
  [[ -n ${1:-} ]] || usage
  DIR=$(realpath -m -- "$1")
  [[ -f $DIR/ports ]] || die "$DIR is not a pgpair directory (no $DIR/ports)"
  local name port
  while read -r name port; do
    PORT[$name]=$port
  done <"$DIR/ports"
  if ! is_port "${PORT[primary]:-}" || ! is_port "${PORT[standby]:-}"; then
    die "$DIR/ports is damaged; expected lines 'primary PORT' and 'standby PORT'"
  fi
}

# Whether something already accepts connections on 127.0.0.1:PORT.
port_busy() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

check_ports() {
  if ! is_port "$1" || ! is_port "$2"; then
    die "ports must be numbers in 1..65535"
  fi
  [[ $1 != "$2" ]] || die "primary and standby need different ports"
  local p
  for p in "$1" "$2"; do
    if port_busy "$p"; then
      die "port $p on 127.0.0.1 is busy; pick another"
    fi
  done
}

# The server writes its sockets into DIR, and in unix_socket_directories the
# path is a quoted, comma separated list, so keep DIR plain and short enough.
check_dir_name() {
  [[ $DIR =~ ^[A-Za-z0-9._/+@=:-]+$ ]] ||
    die "DIR '$DIR' must contain only letters, digits and ._/+@=:-"
  local sock="$DIR/.s.PGSQL.65535"
  (( ${#sock} <= MAX_SOCKET_PATH )) ||
    die "DIR '$DIR' is too long for a unix socket path (max $MAX_SOCKET_PATH bytes with '/.s.PGSQL.PORT'); use a shorter DIR"
  if [[ -e $DIR ]]; then
    [[ -d $DIR ]] || die "$DIR exists and is not a directory"
    [[ -z $(ls -A "$DIR") ]] || die "$DIR exists and is not empty; destroy it or pick another DIR"
  fi
}

# The servers run as $PG_OS_USER, so every directory above DIR must be
# searchable by that user; mktemp -d makes 0700 root-owned ones that are not.
check_traversable() {
  (( EUID == 0 )) || return 0
  local parent=${DIR%/*}
  while [[ -n $parent && ! -d $parent ]]; do parent=${parent%/*}; done
  [[ -z $parent ]] && return 0
  as_pg test -x "$parent" && return 0

  local path="" part
  local -a parts
  IFS=/ read -ra parts <<<"${parent#/}"
  for part in "${parts[@]}"; do
    path+="/$part"
    as_pg test -x "$path" && continue
    die "user $PG_OS_USER cannot enter $path (mode $(stat -c '%a owner %U' "$path")); run 'chmod o+x $path' or use a DIR elsewhere"
  done
}

make_dir() {
  mkdir -p -- "$DIR"
  if (( EUID == 0 )); then
    chown "$PG_OS_USER:" "$DIR"
  fi
  chmod 0755 "$DIR"
  printf 'primary %s\nstandby %s\n' "${PORT[primary]}" "${PORT[standby]}" \
    >"$DIR/ports"
}

# ---------------------------------------------------------------------------
# Installation prerequisites (only create installs anything).

ensure_binaries() {
  [[ -x $PGBIN/postgres ]] && return 0
  if (( EUID != 0 )) || ! command -v apt-get >/dev/null; then
    die "PostgreSQL 15 not found in $PGBIN; install package postgresql-15"
  fi
  echo "pgpair: installing postgresql-15 with apt-get" >&2

  local log had_main=0
  log=$(mktemp)
  [[ -d /etc/postgresql/15/main ]] && had_main=1
  if ! apt_install postgresql-15 >"$log" 2>&1; then
    die_with_log "apt-get install postgresql-15 failed" "$log"
  fi
  rm -f "$log"

  # The Debian package creates and starts a "15/main" cluster on 5432; stop
  # the one it just made so that it does not hold a port the lab may want.
  if (( ! had_main )) && [[ -d /etc/postgresql/15/main ]]; then
    pg_ctlcluster 15 main stop 2>/dev/null || true
  fi
}

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "$@" && return 0
  # A fresh machine may have empty package lists.
  apt-get update -q && apt-get install -y -q --no-install-recommends "$@"
}

ensure_os_user() {
  (( EUID == 0 )) || return 0
  id -u "$PG_OS_USER" >/dev/null 2>&1 && return 0
  useradd --system --user-group --no-create-home \
    --home-dir /var/lib/postgresql --shell /usr/sbin/nologin "$PG_OS_USER" ||
    die "could not create user $PG_OS_USER"
}

# ---------------------------------------------------------------------------
# Node lifecycle.

# A postmaster killed with -9 stays a zombie until init reaps it, which some
# container inits do late or never. Its pid in postmaster.pid and in the
# socket lock file would make the next postmaster think it still runs
# (kill -0 finds zombies), so such stale lock files are removed.
clear_zombie_locks() {
  local lock pid
  for lock in "$(data_dir "$1")/postmaster.pid" \
    "$DIR/.s.PGSQL.${PORT[$1]}.lock"; do
    { read -r pid <"$lock"; } 2>/dev/null || continue
    if [[ $pid =~ ^[0-9]+$ && $(proc_state "$pid") == Z ]]; then
      rm -f -- "$lock"
    fi
  done
}

start_node() {
  local node=$1 log out size
  log=$(log_file "$node")
  if ! is_running "$node"; then
    clear_zombie_locks "$node"
    size=$(stat -c %s "$log" 2>/dev/null || echo 0)
    if ! out=$(as_pg "$PGBIN/pg_ctl" -D "$(data_dir "$node")" -l "$log" \
      -w -t "$SERVER_TIMEOUT_S" -s start 2>&1); then
      die_with_log "$node did not start on port ${PORT[$node]}: $(start_error "$log" "$size" "$out")" "$log"
    fi
  fi
  wait_accepting "$node"
}

# The reason a start failed: the first bind error, FATAL or PANIC the server
# wrote past byte SIZE of LOG, else the first line pg_ctl printed.
start_error() {
  local log=$1 size=$2 out=$3 line
  line=$(tail -c +"$(( size + 1 ))" "$log" 2>/dev/null |
    grep -m 1 -oE 'could not bind .*|(FATAL|PANIC): .*' || true)
  if [[ -n $line ]]; then
    echo "${line/:  /: }"
  else
    echo "${out%%$'\n'*}"
  fi
}

wait_accepting() {
  local node=$1 deadline
  deadline=$(( $(now_ms) + SERVER_TIMEOUT_S * 1000 ))
  until "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "${PORT[$node]}" -t 1; do
    (( $(now_ms) < deadline )) ||
      die_with_log "$node does not accept connections on port ${PORT[$node]}" \
        "$(log_file "$node")"
    sleep 0.1
  done
}

stop_node() {
  local node=$1 mode=${2:-fast} out
  case $mode in
    fast|immediate) ;;
    *) die "stop mode must be fast or immediate, got '$mode'" ;;
  esac
  is_running "$node" || return 0
  if ! out=$(as_pg "$PGBIN/pg_ctl" -D "$(data_dir "$node")" -m "$mode" \
    -w -t "$SERVER_TIMEOUT_S" -s stop 2>&1); then
    die_with_log "$node did not stop: ${out##*$'\n'}" "$(log_file "$node")"
  fi
}

# kill -9 the postmaster only, like a crash; then wait for its children to
# notice and exit, so that a following start finds no old shared memory in
# use. Children that linger past 10 s are killed too.
kill_node() {
  local node=$1 pid
  local -a kids
  pid=$(postmaster_pid "$node")
  [[ -n $pid ]] || return 0
  mapfile -t kids < <(children_of "$pid")
  kill -9 "$pid" 2>/dev/null || true
  wait_gone 10000 "$pid" "${kids[@]}" && return 0
  kill -9 "${kids[@]}" 2>/dev/null || true
  wait_gone 5000 "$pid" "${kids[@]}" ||
    die "processes of the $node postmaster $pid survive kill -9"
}

# Waits up to MS for every pid to be gone or a zombie.
wait_gone() {
  local deadline p alive
  deadline=$(( $(now_ms) + $1 ))
  shift
  while :; do
    alive=0
    for p in "$@"; do
      case $(proc_state "$p") in ""|Z) ;; *) alive=1 ;; esac
    done
    (( alive )) || return 0
    (( $(now_ms) < deadline )) || return 1
    sleep 0.05
  done
}

# ---------------------------------------------------------------------------
# create

cmd_create() {
  (( $# == 3 )) || usage
  DIR=$(realpath -m -- "$1")
  PORT[primary]=$2
  PORT[standby]=$3

  check_ports "$2" "$3"
  check_dir_name
  ensure_binaries
  ensure_os_user
  check_traversable
  make_dir
  CREATING=1

  init_primary
  start_node primary
  bootstrap_primary
  clone_standby
  start_node standby
  wait_sync 30
  CREATING=0
  echo "pgpair: ready in $DIR: primary 127.0.0.1:${PORT[primary]}, standby 127.0.0.1:${PORT[standby]} ($STANDBY_APP streaming, sync)" >&2
}

# Called from on_exit when create fails: stop what was started, fast.
abort_create() {
  local node
  for node in standby primary; do
    if [[ -d $(data_dir "$node") ]] && is_running "$node"; then
      as_pg "$PGBIN/pg_ctl" -D "$(data_dir "$node")" -m immediate -w -s stop \
        >/dev/null 2>&1 || kill_node "$node" || true
    fi
  done
}

init_primary() {
  local pwfile="$DIR/.pwfile" data
  data=$(data_dir primary)
  (umask 077 && echo "$SUPERUSER_PASSWORD" >"$pwfile")
  if (( EUID == 0 )); then
    chown "$PG_OS_USER:" "$pwfile"
  fi
  # --no-sync: a lab cluster need not survive a power cut during initdb;
  # the servers themselves keep fsync on.
  if ! as_pg "$PGBIN/initdb" -D "$data" -U "$SUPERUSER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C \
    --no-sync >"$DIR/initdb.log" 2>&1; then
    rm -f "$pwfile"
    die_with_log "initdb failed" "$DIR/initdb.log"
  fi
  rm -f "$pwfile"
  write_primary_conf >>"$data/postgresql.conf"
  write_hba >"$data/pg_hba.conf"
}

# Appended to postgresql.conf, so these win over initdb's defaults. The
# standby gets a copy through pg_basebackup.
write_primary_conf() {
  cat <<EOF

# ---- written by lab/pgpair.sh ----
listen_addresses = '127.0.0.1'
port = ${PORT[primary]}
unix_socket_directories = '$DIR'
cluster_name = 'pgpair-primary'
password_encryption = 'scram-sha-256'
shared_buffers = '32MB'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
synchronous_standby_names = 'FIRST 1 ($STANDBY_APP)'
synchronous_commit = on
# Short timeouts so a vanished peer is noticed within ~2 s, and a standby
# retries its primary every second instead of every five.
wal_sender_timeout = '2s'
wal_receiver_timeout = '2s'
wal_receiver_status_interval = '1s'
wal_retrieve_retry_interval = '1s'
log_line_prefix = '%m [%p] app=%a user=%u db=%d '
EOF
}

write_hba() {
  cat <<EOF
# written by lab/pgpair.sh: trust on the unix socket in DIR, passwords on TCP.
# TYPE  DATABASE     USER          ADDRESS        METHOD
local   all          all                          trust
local   replication  all                          trust
host    all          all           127.0.0.1/32   scram-sha-256
host    replication  $REPL_USER    127.0.0.1/32   scram-sha-256
EOF
}

# sql_local commits with synchronous_commit=local: no standby exists yet, and
# 'FIRST 1 (standby1)' would otherwise make these commits wait for one.
bootstrap_primary() {
  local sql
  for sql in "CREATE DATABASE $DBNAME" \
    "CREATE ROLE $REPL_USER REPLICATION LOGIN PASSWORD '$REPL_PASSWORD'"; do
    sql_local primary "$sql" >>"$(log_file primary)" 2>&1 ||
      die_with_log "on primary: $sql failed" "$(log_file primary)"
  done
}

# -C -S creates the slot on the primary so it keeps WAL while the standby is
# down; -R writes standby.signal and primary_slot_name. The copy connects
# under its own application_name: its WAL stream would otherwise show up as a
# streaming, sync "standby1" and could satisfy wait_sync before the standby.
clone_standby() {
  local conninfo data
  data=$(data_dir standby)
  conninfo="host=127.0.0.1 port=${PORT[primary]} user=$REPL_USER"
  conninfo+=" password=$REPL_PASSWORD application_name=pgpair_basebackup"
  if ! as_pg "$PGBIN/pg_basebackup" -d "$conninfo" -D "$data" -Fp -Xs -R \
    -C -S "$STANDBY_SLOT" --checkpoint=fast --no-sync \
    >"$DIR/basebackup.log" 2>&1; then
    die_with_log "pg_basebackup from the primary failed" "$DIR/basebackup.log"
  fi
  set_primary_conninfo "$data/postgresql.auto.conf"
  write_standby_conf >>"$data/postgresql.conf"
}

# Replaces the primary_conninfo that -R wrote with one naming the standby.
set_primary_conninfo() {
  local auto=$1 lines
  lines=$(grep -v '^primary_conninfo' "$auto" || true)
  printf '%s\n' "$lines" >"$auto"
  echo "primary_conninfo = 'host=127.0.0.1 port=${PORT[primary]} user=$REPL_USER password=$REPL_PASSWORD application_name=$STANDBY_APP'" >>"$auto"
}

write_standby_conf() {
  cat <<EOF
# ---- standby overrides, written by lab/pgpair.sh ----
port = ${PORT[standby]}
cluster_name = 'pgpair-standby'
# Once promoted this node has no standby of its own; an empty list keeps its
# commits from waiting forever for one.
synchronous_standby_names = ''
EOF
}

# ---------------------------------------------------------------------------
# Replication state.

sync_state() {
  sql_local primary "SELECT state || '|' || sync_state FROM pg_stat_replication WHERE application_name = '$STANDBY_APP'" 2>/dev/null || true
}

wait_sync() {
  local timeout_s=$1 deadline state
  deadline=$(( $(now_ms) + timeout_s * 1000 ))
  while :; do
    state=$(sync_state)
    [[ $state == *"streaming|sync"* ]] && return 0
    (( $(now_ms) < deadline )) || break
    sleep 0.1
  done
  die_with_log "after ${timeout_s}s the primary does not see $STANDBY_APP streaming and sync (it reports '${state:-nothing}')" \
    "$(log_file standby)"
}

in_recovery() {
  sql_local standby "SELECT pg_is_in_recovery()" 2>/dev/null || true
}

cmd_promote() {
  is_running standby || die "standby is not running; start it first"
  if [[ $(in_recovery) == t ]]; then
    local out
    if ! out=$(as_pg "$PGBIN/pg_ctl" -D "$(data_dir standby)" -w \
      -t "$SERVER_TIMEOUT_S" -s promote 2>&1); then
      die_with_log "promote failed: ${out##*$'\n'}" "$(log_file standby)"
    fi
  fi
  local deadline
  deadline=$(( $(now_ms) + SERVER_TIMEOUT_S * 1000 ))
  until [[ $(in_recovery) == f ]]; do
    (( $(now_ms) < deadline )) ||
      die_with_log "standby still in recovery after promote" "$(log_file standby)"
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------
# Read-only commands.

cmd_status() {
  local node state role
  for node in "${NODES[@]}"; do
    state=stopped
    is_running "$node" && state=running
    if [[ ! -d $(data_dir "$node") ]]; then
      role=missing
    elif [[ -e $(data_dir "$node")/standby.signal ]]; then
      role=standby
    else
      role=primary
    fi
    echo "$node ${PORT[$node]} $state $role"
  done
}

cmd_url() {
  local auth="$SUPERUSER:$SUPERUSER_PASSWORD"
  case ${1:-} in
    primary|standby)
      echo "postgresql://$auth@127.0.0.1:${PORT[$1]}/$DBNAME" ;;
    multi)
      echo "postgresql://$auth@127.0.0.1:${PORT[primary]},127.0.0.1:${PORT[standby]}/$DBNAME?target_session_attrs=read-write" ;;
    *) die "url needs primary, standby or multi, got '${1:-}'" ;;
  esac
}

# psql over TCP with the superuser's password, as a client would connect.
cmd_psql() {
  local node=$1
  shift
  local conninfo="host=127.0.0.1 port=${PORT[$node]} user=$SUPERUSER"
  conninfo+=" dbname=$DBNAME sslmode=disable target_session_attrs=any"
  PGPASSWORD=$SUPERUSER_PASSWORD PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-5} \
    exec "$PGBIN/psql" -X -d "$conninfo" "$@"
}

cmd_destroy() {
  DIR=$(realpath -m -- "$1")
  [[ -e $DIR ]] || return 0
  load_dir "$1"
  local node
  for node in standby primary; do
    [[ -d $(data_dir "$node") ]] || continue
    if is_running "$node"; then
      as_pg "$PGBIN/pg_ctl" -D "$(data_dir "$node")" -m immediate -w -s \
        stop >/dev/null 2>&1 || kill_node "$node"
    fi
  done
  rm -rf -- "$DIR"
}

# ---------------------------------------------------------------------------

wait_sync_cmd() {
  (( $# <= 1 )) || usage
  local timeout_s=${1:-30}
  [[ $timeout_s =~ ^[0-9]+$ ]] || die "TIMEOUT_S must be whole seconds"
  wait_sync "$timeout_s"
}

main() {
  (( $# >= 1 )) || usage
  SUBCMD=$1
  shift
  case $SUBCMD in
    -h|--help|help) usage 0 ;;
    create) cmd_create "$@"; return ;;
    destroy) (( $# == 1 )) || usage; cmd_destroy "$1"; return ;;
    start|stop|kill|promote|wait-sync|psql|url|status) ;;
    *) usage ;;
  esac

  load_dir "${1:-}"
  shift
  [[ -x $PGBIN/pg_ctl && -x $PGBIN/psql ]] ||
    die "PostgreSQL 15 binaries not found in $PGBIN"
  case $SUBCMD in
    start) (( $# == 1 )) || usage; need_node "$1"; start_node "$1" ;;
    stop) (( $# == 1 || $# == 2 )) || usage; need_node "$1"; stop_node "$@" ;;
    kill) (( $# == 1 )) || usage; need_node "$1"; kill_node "$1" ;;
    promote) (( $# == 0 )) || usage; cmd_promote ;;
    wait-sync) wait_sync_cmd "$@" ;;
    psql) need_node "${1:-}"; cmd_psql "$@" ;;
    url) (( $# == 1 )) || usage; cmd_url "$1" ;;
    status) (( $# == 0 )) || usage; cmd_status ;;
  esac
}

main "$@"
