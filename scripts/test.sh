#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, and runs ctest (unit
# tests, integration tests on a real PostgreSQL pair, the lab scripts' own
# tests, promtool rule tests, dashboard checks, the Helm chart tests and
# the failover suite on a real Patroni cluster).
#
#   scripts/test.sh                 everything
#   scripts/test.sh -R unit         only tests whose name matches (ctest -R)
#   scripts/test.sh --sanitizers    everything, then the unit and integration
#                                   tests again under ASan+UBSan (build-asan)
#                                   and TSan (build-tsan); with -R, only the
#                                   matching ones
#   scripts/test.sh --fault-trials N
#                                   the failover suite's randomized runner
#                                   with N trials instead of 3
#   scripts/test.sh --fuzz-seconds N
#                                   every fuzz target for N seconds instead
#                                   of the test command's 30 (run after
#                                   ctest, outside its timeout)
set -euo pipefail
cd "$(dirname "$0")/.."

sanitizers=0
fuzz_seconds=""
ctest_args=()
while (($# > 0)); do
  case "$1" in
    --sanitizers) sanitizers=1 ;;
    --fault-trials)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] ||
        { echo "test.sh: --fault-trials needs a positive number" >&2; exit 2; }
      export CPHA_FAULT_TRIALS="$2"
      shift
      ;;
    --fuzz-seconds)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] ||
        { echo "test.sh: --fuzz-seconds needs a positive number" >&2; exit 2; }
      fuzz_seconds="$2"
      shift
      ;;
    *) ctest_args+=("$1") ;;
  esac
  shift
done

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
if [[ -n $fuzz_seconds ]]; then
  ctest_args+=(-E '^fuzz_parsers$')  # the long run below replaces it
fi
ctest --test-dir build --output-on-failure "${ctest_args[@]}"
if [[ -n $fuzz_seconds ]]; then
  tests/fuzz/run.sh --seconds "$fuzz_seconds"
fi

if ((sanitizers)); then
  # The sidecar binary is built in each directory too: the integration
  # tests run the one beside them, and fail on a sanitizer report in its log.
  for variant in asan:address,undefined tsan:thread; do
    dir="build-${variant%%:*}"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCPHA_SANITIZE="${variant#*:}" >/dev/null
    cmake --build "$dir" -j"$(nproc)" \
      --target unit_tests integration_tests cp-ha-sidecar
    ctest --test-dir "$dir" --output-on-failure \
      -R '^(unit_tests|integration_tests)$' "${ctest_args[@]}"
  done
fi
