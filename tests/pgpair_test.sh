#!/usr/bin/env bash
# Exercises every lab/pgpair.sh subcommand against a real primary and
# synchronous standby on free loopback ports, in a temporary directory that
# is removed on exit. The last line is "N passed, M failed"; the exit status
# is non-zero when anything failed.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
readonly PGPAIR=$HERE/../lab/pgpair.sh
readonly PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

passed=0
failed=0
TMP=$(mktemp -d /tmp/pgpair_test.XXXXXX)
# mktemp -d gives 0700; the servers run as another user and must enter it.
chmod 0755 "$TMP"
readonly TMP PAIR=$TMP/pair

cleanup() {
  "$PGPAIR" destroy "$PAIR" >/dev/null 2>&1 || true
  "$PGPAIR" destroy "$TMP/other" >/dev/null 2>&1 || true
  rm -rf -- "$TMP"
}
trap cleanup EXIT
# Make INT and TERM leave through the EXIT trap too.
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# Harness.

# check NAME CMD...: runs CMD; on failure prints its output under the name.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then
    passed=$(( passed + 1 ))
    echo "ok   $name"
  else
    failed=$(( failed + 1 ))
    echo "FAIL $name"
    [[ -z $out ]] || echo "     | ${out//$'\n'/$'\n'     | }"
  fi
}

expect_eq() {
  [[ $1 == "$2" ]] && return 0
  echo "expected '$2'"
  echo "     got '$1'"
  return 1
}

# Runs CMD and succeeds if it fails, echoing its stderr for the next check.
expect_fail() {
  if "$@" 2>&1; then
    echo "command succeeded but should have failed: $*"
    return 1
  fi
}

port_busy() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# A random unused port in 20000..59999, different from those given.
free_port() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 40000 ))
    [[ " $* " == *" $p "* ]] && continue
    port_busy "$p" || break
  done
  echo "$p"
}

now_ms() {
  local t=${EPOCHREALTIME//[!0-9]/}
  echo $(( t / 1000 ))
}

pg() {
  timeout 20 "$PGPAIR" psql "$PAIR" "$@"
}

# Polls CMD every 0.1 s for up to MS milliseconds.
eventually() {
  local deadline
  deadline=$(( $(now_ms) + $1 ))
  shift
  until "$@" >/dev/null 2>&1; do
    (( $(now_ms) < deadline )) || { "$@"; return 1; }
    sleep 0.1
  done
}

postmaster_of() {
  head -n 1 "$PAIR/$1/postmaster.pid" 2>/dev/null || true
}

# True if PID is gone or only a zombie waiting for its parent.
pid_dead() {
  local stat
  [[ -n $1 ]] || return 0
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  [[ ${stat%% *} == Z ]]
}

# ---------------------------------------------------------------------------
# Steps; each is one check.

P1=$(free_port)
P2=$(free_port "$P1")
readonly P1 P2

# From another cwd with a relative DIR; later calls use the absolute path.
create_pair() {
  (cd "$TMP" && "$PGPAIR" create pair "$P1" "$P2")
}

status_is() {
  expect_eq "$("$PGPAIR" status "$PAIR")" "$1"
}

urls_ok() {
  local auth=postgres:postgres
  expect_eq "$("$PGPAIR" url "$PAIR" primary)" \
    "postgresql://$auth@127.0.0.1:$P1/autonomy" &&
    expect_eq "$("$PGPAIR" url "$PAIR" standby)" \
      "postgresql://$auth@127.0.0.1:$P2/autonomy" &&
    expect_eq "$("$PGPAIR" url "$PAIR" multi)" \
      "postgresql://$auth@127.0.0.1:$P1,127.0.0.1:$P2/autonomy?target_session_attrs=read-write"
}

replication_is() {
  expect_eq "$(pg primary -Atqc "SELECT application_name || '|' || state || '|' || sync_state FROM pg_stat_replication")" "$1"
}

roles_ok() {
  expect_eq "$(pg primary -Atqc "SELECT current_user, current_database(), (SELECT rolreplication FROM pg_roles WHERE rolname = 'replicator')")" \
    "postgres|autonomy|t"
}

standby_sees() {
  expect_eq "$(pg standby -Atqc "SELECT coalesce(string_agg(v, ',' ORDER BY v), '') FROM probe")" "$1"
}

write_probe() {
  pg primary -v ON_ERROR_STOP=1 -qc "INSERT INTO probe VALUES ('$1')"
}

busy_port_fails() {
  local err
  err=$(expect_fail "$PGPAIR" create "$TMP/other" "$P1" "$(free_port "$P1" "$P2")") || return 1
  [[ $err == "pgpair: port $P1 on 127.0.0.1 is busy"* ]] || { echo "$err"; return 1; }
  [[ ! -e $TMP/other ]] || { echo "$TMP/other was created"; return 1; }
}

nonempty_dir_fails() {
  local err
  err=$(expect_fail "$PGPAIR" create "$PAIR" "$(free_port "$P1" "$P2")" \
    "$(free_port "$P1" "$P2")") || return 1
  [[ $err == *"not empty"* ]] || { echo "$err"; return 1; }
}

# Only root drops to another user, so only then can a path be unreachable.
untraversable_dir_fails() {
  (( EUID == 0 )) || return 0
  mkdir -m 0700 "$TMP/locked" || return 1
  local err
  err=$(expect_fail "$PGPAIR" create "$TMP/locked/pair" "$(free_port "$P1" "$P2")" \
    "$(free_port "$P1" "$P2")") || return 1
  [[ $err == *"cannot enter $TMP/locked"* ]] || { echo "$err"; return 1; }
}

bad_usage_fails() {
  local rc=0
  "$PGPAIR" frobnicate "$PAIR" 2>/dev/null || rc=$?
  expect_eq "$rc" 2
}

standby_read_only() {
  local err
  err=$(expect_fail pg standby -v ON_ERROR_STOP=1 -qc "INSERT INTO probe VALUES ('x')") || return 1
  [[ $err == *"read-only transaction"* ]] || { echo "$err"; return 1; }
}

replication_gone() {
  expect_eq "$(pg primary -Atqc "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'standby1'")" 0
}

wait_sync_times_out() {
  local start elapsed
  start=$(now_ms)
  expect_fail "$PGPAIR" wait-sync "$PAIR" 1 >/dev/null || return 1
  elapsed=$(( $(now_ms) - start ))
  (( elapsed < 5000 )) || { echo "wait-sync 1 took ${elapsed} ms"; return 1; }
}

kill_primary() {
  local pid
  pid=$(postmaster_of primary)
  [[ -n $pid ]] || { echo "no primary pid"; return 1; }
  "$PGPAIR" kill "$PAIR" primary || return 1
  pid_dead "$pid" || { echo "postmaster $pid still alive"; return 1; }
  ! "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$P1"
}

promoted_takes_writes() {
  timeout 20 "$PGPAIR" psql "$PAIR" standby -v ON_ERROR_STOP=1 \
    -qc "INSERT INTO probe VALUES ('after-promote')" &&
    expect_eq "$(pg standby -Atqc "SELECT pg_is_in_recovery()")" f
}

multi_url_finds_writer() {
  local url
  url=$("$PGPAIR" url "$PAIR" multi)
  expect_eq "$(PGCONNECT_TIMEOUT=5 timeout 20 "$PGBIN/psql" -X -Atqc "SELECT inet_server_port()" "$url")" "$P2"
}

destroy_pair() {
  local pids
  pids="$(postmaster_of primary) $(postmaster_of standby)"
  "$PGPAIR" destroy "$PAIR" || return 1
  [[ ! -e $PAIR ]] || { echo "$PAIR still exists"; return 1; }
  local pid
  for pid in $pids; do
    pid_dead "$pid" || { echo "postmaster $pid still alive"; return 1; }
  done
}

refuses_foreign_dir() {
  mkdir "$TMP/notpair" || return 1
  expect_fail "$PGPAIR" destroy "$TMP/notpair" >/dev/null &&
    [[ -d $TMP/notpair ]]
}

# ---------------------------------------------------------------------------

main() {
  local t0 t create_ms
  t0=$(now_ms)
  cd /

  check "create builds a primary and a sync standby" create_pair
  create_ms=$(( $(now_ms) - t0 ))
  check "status shows both nodes running" status_is \
    "primary $P1 running primary"$'\n'"standby $P2 running standby"
  check "url prints primary, standby and multi URLs" urls_ok
  check "wait-sync returns for a healthy pair" "$PGPAIR" wait-sync "$PAIR" 5
  check "primary reports standby1|streaming|sync" replication_is "standby1|streaming|sync"
  check "superuser, database and replicator role exist" roles_ok
  check "psql writes on the primary" pg primary -v ON_ERROR_STOP=1 \
    -qc "CREATE TABLE probe (v text); INSERT INTO probe VALUES ('one')"
  check "the write is visible on the standby" eventually 5000 standby_sees one
  check "the standby refuses writes" standby_read_only
  check "create fails on a busy port" busy_port_fails
  check "create fails on a non-empty DIR" nonempty_dir_fails
  check "create explains an untraversable DIR" untraversable_dir_fails
  check "unknown subcommand exits 2" bad_usage_fails

  t=$(now_ms)
  check "stop standby" "$PGPAIR" stop "$PAIR" standby
  check "primary notices the stopped standby within 3 s" eventually 3000 replication_gone
  echo "     (noticed after $(( $(now_ms) - t )) ms)"
  check "stop of a stopped node is a no-op" "$PGPAIR" stop "$PAIR" standby immediate
  check "status shows the standby stopped" status_is \
    "primary $P1 running primary"$'\n'"standby $P2 stopped standby"
  check "wait-sync fails after its timeout" wait_sync_times_out
  check "start standby" "$PGPAIR" start "$PAIR" standby
  check "start of a running node is a no-op" "$PGPAIR" start "$PAIR" standby
  check "sync returns after the standby restarts" "$PGPAIR" wait-sync "$PAIR" 15
  check "a write commits with the standby back" write_probe two
  check "and reaches the standby" eventually 5000 standby_sees one,two

  check "kill -9 the primary" kill_primary
  check "kill of a dead node is a no-op" "$PGPAIR" kill "$PAIR" primary
  check "status shows the primary stopped" status_is \
    "primary $P1 stopped primary"$'\n'"standby $P2 running standby"
  check "start the killed primary" "$PGPAIR" start "$PAIR" primary
  check "sync returns after the crash" "$PGPAIR" wait-sync "$PAIR" 15
  check "committed rows survive the crash" write_probe three
  check "and replicate" eventually 5000 standby_sees one,three,two

  check "stop the primary (immediate)" "$PGPAIR" stop "$PAIR" primary immediate
  check "promote the standby" "$PGPAIR" promote "$PAIR"
  check "promote again is a no-op" "$PGPAIR" promote "$PAIR"
  check "status shows the standby as primary" status_is \
    "primary $P1 stopped primary"$'\n'"standby $P2 running primary"
  check "the promoted node takes writes" promoted_takes_writes
  check "the multi URL finds the writable node" multi_url_finds_writer

  check "destroy stops both and removes DIR" destroy_pair
  check "destroy of a missing DIR is a no-op" "$PGPAIR" destroy "$PAIR"
  check "destroy refuses a directory it did not make" refuses_foreign_dir

  echo "create took $create_ms ms; whole test $(( $(now_ms) - t0 )) ms"
  echo "$passed passed, $failed failed"
  (( failed == 0 ))
}

main "$@"
