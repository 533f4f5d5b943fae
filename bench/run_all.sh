#!/usr/bin/env bash
# run_all.sh: runs every benchmark of bench/ one after the other (takeover,
# scrape, footprint, fenced_writes), each on its own fresh lab, and prints
# their tables. The full run takes about 35 minutes, ten of them footprint's
# window.
#
# --smoke runs each one very briefly (about 90 s in all) into a temporary
# results directory, to show that the scripts work: it fails when a script
# fails or writes no result, never because of a figure. ctest runs it as
# bench_smoke.
#
# Usage: bench/run_all.sh [--smoke] [--sidecar PATH]
#   --sidecar   the binary (default $CP_HA_SIDECAR, else
#               build/exporter/cp-ha-sidecar)
# Results go to $CPHA_BENCH_OUT (default /tmp/cp-ha-bench-results); ports
# and the sidecar timing as in bench/lib.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
SMOKE=0
SIDECAR_ARGS=()
SMOKE_OUT=""

# Each benchmark with the arguments of a smoke run.
declare -A SMOKE_ARGS=(
  [takeover]="--trials 2 --settle-ms 100"
  [scrape]="--duration 1 --concurrency 2 --wrk-timeout 1"
  [footprint]="--duration 3 --warmup 1"
  [fenced_writes]="--duration 1 --rounds 1 --clients 1,4"
)
readonly ORDER=(takeover scrape footprint fenced_writes)

die() {
  echo "run_all: error: $*" >&2
  exit 1
}

parse_args() {
  while (($# > 0)); do
    case $1 in
      --smoke) SMOKE=1; shift ;;
      --sidecar)
        [[ -n ${2:-} ]] || die "--sidecar needs a path"
        SIDECAR_ARGS=(--sidecar "$2")
        shift 2
        ;;
      -h|--help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
      *) die "unknown argument '$1' (see --help)" ;;
    esac
  done
}

cleanup() {
  [[ -z $SMOKE_OUT ]] || rm -rf -- "$SMOKE_OUT"
}

# run_one NAME: true when the script succeeded and wrote rows.
run_one() {
  local name=$1 out=${CPHA_BENCH_OUT:-/tmp/cp-ha-bench-results}
  local -a args=()
  if ((SMOKE)); then
    read -r -a args <<<"${SMOKE_ARGS[$name]}"
  fi
  echo "== $name ${args[*]}"
  local started=$SECONDS
  if ! "$HERE/$name.sh" "${args[@]}" "${SIDECAR_ARGS[@]}"; then
    echo "run_all: $name.sh failed" >&2
    return 1
  fi
  if ! jq -e '.rows | length > 0' "$out/$name.json" >/dev/null 2>&1; then
    echo "run_all: $name.sh wrote no rows to $out/$name.json" >&2
    return 1
  fi
  echo "== $name done in $((SECONDS - started)) s"
}

main() {
  parse_args "$@"
  if ((SMOKE)); then
    trap cleanup EXIT
    SMOKE_OUT=$(mktemp -d /tmp/cp-ha-bench-smoke.XXXXXX)
    export CPHA_BENCH_OUT=$SMOKE_OUT
  fi

  local name failed=()
  for name in "${ORDER[@]}"; do
    run_one "$name" || failed+=("$name")
  done

  if ((${#failed[@]} > 0)); then
    die "failed: ${failed[*]}"
  fi
  echo "run_all: every benchmark ran in $SECONDS s"
}

main "$@"
