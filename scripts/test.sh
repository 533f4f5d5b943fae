#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, and runs ctest (unit
# tests, integration tests on a real PostgreSQL pair, the lab scripts' own
# tests, promtool rule tests, dashboard checks and the Helm chart tests).
#
#   scripts/test.sh                 everything
#   scripts/test.sh -R unit         only tests whose name matches (ctest -R)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure "$@"
