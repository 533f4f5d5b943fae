#!/usr/bin/env bash
# Builds tests/fuzz/parsers_fuzzer with clang (libFuzzer, ASan, UBSan) into
# build-fuzz/ and runs it over a copy of the corpus kept in the repo.
#
#   tests/fuzz/run.sh            a short run (60 s)
#   tests/fuzz/run.sh 3600       a longer one (seconds)
# New inputs that libFuzzer finds go to build-fuzz/corpus, not the repo.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
out=build-fuzz
mkdir -p "$out/corpus"
cp -n tests/fuzz/corpus/* "$out/corpus/"

flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined
  -fno-sanitize-recover=all -I. -I/usr/include/postgresql)
if [[ ! -x "$out/parsers_fuzzer" ||
  -n "$(find tests/fuzz ha exporter -newer "$out/parsers_fuzzer" \
    -name '*.cc' -o -newer "$out/parsers_fuzzer" -name '*.h')" ]]; then
  clang++-14 "${flags[@]}" -o "$out/parsers_fuzzer" \
    tests/fuzz/parsers_fuzzer.cc ha/conn_params.cc ha/status.cc ha/log.cc \
    exporter/options.cc -lpq -lboost_program_options
fi
"$out/parsers_fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
  -print_final_stats=1 "$out/corpus"
