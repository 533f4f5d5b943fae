#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, and runs ctest (unit
# tests, integration tests on a real PostgreSQL pair, the lab scripts' own
# tests, promtool rule tests, dashboard checks and the Helm chart tests).
#
#   scripts/test.sh                 everything
#   scripts/test.sh -R unit         only tests whose name matches (ctest -R)
#   scripts/test.sh --sanitizers    everything, then the unit and integration
#                                   tests again under ASan+UBSan (build-asan)
#                                   and TSan (build-tsan); with -R, only the
#                                   matching ones
set -euo pipefail
cd "$(dirname "$0")/.."

sanitizers=0
ctest_args=()
for arg in "$@"; do
  if [[ "$arg" == "--sanitizers" ]]; then
    sanitizers=1
  else
    ctest_args+=("$arg")
  fi
done

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure "${ctest_args[@]}"

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
