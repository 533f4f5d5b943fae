#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang++-14, ASan and UBSan)
# in build-fuzz/ and runs each over its corpus for a while. Exits non-zero
# when any target crashes, hangs (10 s on one input), runs out of memory or
# breaks an invariant; the input that did it is kept in
# build-fuzz/artifacts/ and the target's log is printed.
#
#   tests/fuzz/run.sh                     every target, 30 s each (the test
#                                         command's short run)
#   tests/fuzz/run.sh --seconds 3600      every target, an hour each
#   tests/fuzz/run.sh cli_answer ...      only these targets
#
# CPHA_FUZZ_SECONDS sets the default length. The corpus kept in the repo
# (tests/fuzz/corpus/<target>/) is read, never written: new inputs go to
# build-fuzz/corpus/<target>/. To keep one, copy it into the repo's corpus
# (libFuzzer's -merge=1 picks the ones that add coverage).
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds="${CPHA_FUZZ_SECONDS:-30}"
targets=()
while (($# > 0)); do
  case "$1" in
    --seconds)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] ||
        { echo "run.sh: --seconds needs a positive number" >&2; exit 2; }
      seconds="$2"
      shift
      ;;
    -*) echo "run.sh: unknown flag $1" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
if ((${#targets[@]} == 0)); then
  for source in tests/fuzz/*_fuzzer.cc; do
    name=${source##*/}
    targets+=("${name%_fuzzer.cc}")
  done
fi

# Bodies of HTTP requests and answers may be large; other inputs are short.
declare -A max_len=([admin_body]=65536 [cli_answer]=65536)

out=build-fuzz
mkdir -p "$out/artifacts" "$out/logs"
cmake -S . -B "$out" -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCPHA_FUZZ=ON \
  -DCPHA_SANITIZE=address,undefined \
  -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link >"$out/logs/configure.log" 2>&1 ||
  { cat "$out/logs/configure.log" >&2; exit 1; }
cmake --build "$out" -j2 --target fuzz_targets >"$out/logs/build.log" 2>&1 ||
  { tail -50 "$out/logs/build.log" >&2; exit 1; }

# Runs one target; prints one summary line; returns non-zero on a finding.
run_target() {
  local name=$1 binary="$out/tests/fuzz/fuzz_$1" log="$out/logs/$1.log"
  local corpus="tests/fuzz/corpus/$1" work="$out/corpus/$1" dict=()
  [[ -x $binary ]] || { echo "fuzz $name: no binary $binary" >&2; return 1; }
  [[ -d $corpus ]] || { echo "fuzz $name: no corpus $corpus" >&2; return 1; }
  [[ -f tests/fuzz/$name.dict ]] && dict=(-dict="tests/fuzz/$name.dict")
  mkdir -p "$work"
  local status=0
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="${max_len[$name]:-4096}" -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$name-" "${dict[@]}" \
    "$work" "$corpus" >"$log" 2>&1 || status=$?
  local runs time
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  time=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
  if ((status != 0)); then
    echo "fuzz $name: FAILED (exit $status) after ${runs:-?} runs; log $log"
    grep -E '^(==[0-9]+==ERROR|fuzz invariant|SUMMARY|ALARM|artifact_prefix)' \
      "$log" | head -20 || true
    grep -m3 'runtime error' "$log" || true
    return 1
  fi
  echo "fuzz $name: ok, ${runs:-?} runs in ${time:-?} s," \
    "corpus $(find "$work" "$corpus" -type f | wc -l) inputs"
}

failed=()
for name in "${targets[@]}"; do
  run_target "$name" || failed+=("$name")
done
if ((${#failed[@]} > 0)); then
  echo "fuzz: findings in ${failed[*]} (inputs in $out/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, $seconds s each, no findings"
