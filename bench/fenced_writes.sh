#!/usr/bin/env bash
# fenced_writes.sh: what the epoch fence costs the control plane's writes.
# Throughput of 1, 4, 16 and 64 concurrent writers, each committing one
# small insert per transaction, in three modes (bench/sql/*.sql):
#
#   unfenced           BEGIN; INSERT; COMMIT
#   fenced_shared      BEGIN; SELECT cp_ha_fence(epoch); INSERT; COMMIT
#                      (the singleton row FOR SHARE, the default)
#   fenced_for_update  BEGIN; SELECT cp_ha_fence(epoch, true); INSERT; COMMIT
#                      (the runbook's FOR UPDATE)
#
# reported as transactions per second and as ratios to unfenced at the same
# number of writers, all measured in one run: --rounds rounds, each running
# every (writers, mode) once in turn, so that a slow minute of a shared
# machine hits every mode alike; the figure is the median of the rounds.
# The writers are pgbench clients (-M prepared, threads = min(2, clients))
# over TCP to the primary, whose synchronous standby (synchronous_commit =
# on) confirms every commit.
# A sidecar runs throughout: it migrated the schema (cp_ha_fence comes from
# schema/0002_epoch_fence.sql), won the epoch the writers carry, and keeps
# leading. A CHECKPOINT precedes each run.
#
# Two reference modes, for telling where a fence's cost comes from, run
# only when named in --modes:
#   ref_extra_statement   BEGIN; SELECT epoch; INSERT; COMMIT (no lock)
#   ref_table_lock_fence  BEGIN; SELECT bench_table_lock_fence(epoch);
#                         INSERT; COMMIT: a fence by table lock (ROW SHARE,
#                         which the bump's EXCLUSIVE lock conflicts with)
#                         and a plain read; not the product's
#
# Usage: bench/fenced_writes.sh [--duration SECONDS] [--rounds N]
#                               [--clients 1,4,16,64] [--modes M,...]
#                               [--sidecar PATH]
#   --duration   seconds per pgbench run (default 10)
#   --rounds     rounds (default 3)
#   --modes      default unfenced,fenced_shared,fenced_for_update; unfenced
#                must be among them (the ratios' base)
# Ports, the results directory and the sidecar timing: bench/lib.sh.
# Writes RESULTS_DIR/fenced_writes.json.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION=10
ROUNDS=3
CLIENTS=1,4,16,64
MODES=unfenced,fenced_shared,fenced_for_update
EPOCH=""

parse_args() {
  while (($# > 0)); do
    case $1 in
      --duration) DURATION=$(need_value "$@"); need_int "$1" "$DURATION" ;;
      --rounds) ROUNDS=$(need_value "$@"); need_int "$1" "$ROUNDS" ;;
      --clients) CLIENTS=$(need_value "$@") ;;
      --modes) MODES=$(need_value "$@") ;;
      --sidecar) SIDECAR_BIN=$(need_value "$@") ;;
      -h|--help) print_usage "$0"; exit 0 ;;
      *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift 2
  done
  ((DURATION >= 1)) || die "--duration must be at least 1 second"
  ((ROUNDS >= 1)) || die "--rounds must be at least 1"
  local clients mode
  for clients in ${CLIENTS//,/ }; do
    need_int --clients "$clients"
    ((clients >= 1)) || die "--clients values must be at least 1"
  done
  for mode in ${MODES//,/ }; do
    [[ -f $BENCH_DIR/sql/$mode.sql ]] ||
      die "unknown mode '$mode': no bench/sql/$mode.sql"
  done
  [[ ,$MODES, == *,unfenced,* ]] || die "--modes must include unfenced"
}

settings_json() {
  jq -n --argjson sidecar_flags "$(sidecar_flags_json)" \
    --argjson duration "$DURATION" --argjson rounds "$ROUNDS" \
    --arg clients "$CLIENTS" --arg modes "$MODES" --argjson epoch "$EPOCH" \
    --arg sync_commit "$(sql autonomy 'SHOW synchronous_commit')" \
    --arg sync_names "$(sql autonomy 'SHOW synchronous_standby_names')" \
    --arg fsync "$(sql autonomy 'SHOW fsync')" \
    --arg filesystem "$(findmnt -n -o FSTYPE -T "$PG_DIR")" \
    '{sidecar: $sidecar_flags, pgbench_duration_s: $duration,
      rounds: $rounds, figure: "median of the rounds",
      clients: ($clients | split(",") | map(tonumber)),
      modes: ($modes | split(",")),
      pgbench: "-n -M prepared, threads = min(2, clients), TCP to the primary",
      epoch: $epoch, synchronous_commit: $sync_commit,
      synchronous_standby_names: $sync_names, fsync: $fsync,
      data_filesystem: $filesystem}'
}

standby_state() {
  sql postgres "SELECT coalesce(string_agg(application_name || ' ' ||
    state || ' ' || sync_state, ', '), 'none') FROM pg_stat_replication"
}

# create_table_lock_fence: the function of the reference mode
# ref_table_lock_fence (see the header).
create_table_lock_fence() {
  sql autonomy "$(
    cat <<'SQL'
CREATE FUNCTION bench_table_lock_fence(expected_epoch bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  durable bigint;
BEGIN
  LOCK TABLE leadership_state IN ROW SHARE MODE;
  SELECT current_epoch INTO durable FROM leadership_state WHERE id = 1;
  IF durable IS DISTINCT FROM expected_epoch THEN
    RAISE EXCEPTION 'stale epoch % (durable %)', expected_epoch, durable
      USING ERRCODE = 'CPHA1';
  END IF;
  RETURN durable;
END
$$
SQL
  )"
}

# prepare: the sidecar leads; the writers' table exists; prints nothing.
prepare() {
  start_sidecar 1
  wait_leader 30 >/dev/null
  EPOCH=$(curl -sf "$(sidecar_url 1 /v1/health/leader)" |
    jq -e .current_epoch) ||
    die "cannot read the epoch from $(sidecar_url 1 /v1/health/leader)"
  sql autonomy "CREATE TABLE bench_fenced_writes (
    id bigserial PRIMARY KEY, writer integer NOT NULL, epoch bigint NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now())"
  create_table_lock_fence
  [[ $(standby_state) == "standby1 streaming sync" ]] ||
    die "the standby is not streaming in sync: $(standby_state)"
}

# run_pgbench CLIENTS MODE: one JSON row.
run_pgbench() {
  local clients=$1 mode=$2 threads=2 out
  ((clients < threads)) && threads=$clients
  sql autonomy CHECKPOINT
  out=$(PGPASSWORD=postgres "$PGBIN/pgbench" -n -M prepared \
    -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres \
    -c "$clients" -j "$threads" -T "$DURATION" -D "epoch=$EPOCH" \
    -f "$BENCH_DIR/sql/$mode.sql" autonomy 2>&1) ||
    die "pgbench $mode with $clients clients failed: $out"
  python3 "$BENCH_PY" pgbench-row "clients=$clients" "mode=$mode" <<<"$out"
}

# The fence rejects nothing during the run: the sidecar kept its epoch.
check_epoch_kept() {
  local now rejected
  now=$(curl -sf "$(sidecar_url 1 /v1/health/leader)" | jq -e .current_epoch)
  rejected=$(sql autonomy "SELECT cp_ha_fence_rejections_total()")
  [[ $now == "$EPOCH" && $rejected == 0 ]] ||
    die "the epoch changed ($EPOCH -> $now) or the fence rejected" \
      "$rejected writes"
}

main() {
  parse_args "$@"
  bench_init fenced_writes
  need_sidecar
  need_tools jq curl python3 "$PGBIN/pgbench"
  start_pair
  prepare
  write_header "$(settings_json)"

  local round clients mode row
  for ((round = 1; round <= ROUNDS; round++)); do
    for clients in ${CLIENTS//,/ }; do
      for mode in ${MODES//,/ }; do
        row=$(run_pgbench "$clients" "$mode")
        echo "$row" >>"$WORK/rounds.jsonl"
        say "round $round, $clients writers, $mode:" \
          "$(jq -r .tps <<<"$row") tps"
      done
    done
  done
  check_epoch_kept
  say "standby after the runs: $(standby_state)"
  python3 "$BENCH_PY" fenced-summary "$WORK/rounds.jsonl" >"$WORK/rows.jsonl"
  cp "$WORK/rounds.jsonl" "$RESULTS_DIR/fenced_writes-rounds.jsonl"
  finish
}

main "$@"
