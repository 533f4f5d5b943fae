#!/usr/bin/env bash
# Every database call of the sidecar is bounded by a timeout because all of
# them go through PgSession (ha/pg_session.cc), which uses libpq's
# asynchronous API under poll(2). This check keeps it that way (issue #9):
#   1. No file of ha/, collectors/ or exporter/ calls a libpq function that
#      can block on the network (PQexec, PQconnectdb, PQping, PQcancel, ...).
#   2. Outside ha/pg_session.{h,cc}, only libpq functions that do no I/O
#      (parsing a conninfo, reading a PGresult, freeing) are called.
#   3. In ha/pg_session.cc, PQgetResult is called once, after a PQisBusy
#      loop that waits on the socket; the session is put in non-blocking
#      mode; connecting uses PQconnectStartParams and PQconnectPoll.
#
#   tests/check_libpq_bounded.sh [ROOT]    ROOT defaults to the repository
set -euo pipefail
root="${1:-$(dirname "$0")/..}"
cd "$root"

session=ha/pg_session.cc
# libpq calls that wait on the server without a bound of ours.
blocking=(PQexec PQexecParams PQexecPrepared PQprepare PQdescribePrepared
  PQdescribePortal PQconnectdb PQconnectdbParams PQsetdbLogin PQsetdb PQreset
  PQping PQpingParams PQfn PQgetline PQgetlineAsync PQputline PQputnbytes
  PQendcopy PQgetCopyData PQputCopyData PQputCopyEnd PQencryptPasswordConn
  PQcancel PQrequestCancel PQchangePassword)
# libpq calls that do no I/O.
no_io=(PQconninfoParse PQconninfoFree PQfreemem PQclear PQntuples PQnfields
  PQgetisnull PQgetvalue PQgetlength PQfname PQresultStatus
  PQresultErrorField PQcmdTuples)
blocking_re="^($(IFS='|'; echo "${blocking[*]}"))$"
no_io_re="^($(IFS='|'; echo "${no_io[*]}"))$"

# Calls of libpq functions, comments removed: "file:line:name".
calls() {
  local file
  for file in "$@"; do
    { sed -e 's|//.*$||' "$file" |
      grep -noE '\bPQ[A-Za-z]+[[:space:]]*\(' || true; } |
      sed -e "s|^|$file:|" -e 's/[[:space:]]*($//'
  done
}

mapfile -t sources < <(
  find ha collectors exporter -name '*.cc' -o -name '*.h' | sort)
if ((${#sources[@]} == 0)); then
  echo "check_libpq_bounded: no sources under $root" >&2
  exit 1
fi
problems=()

count=0
while IFS=: read -r file line name; do
  [[ -z $file ]] && continue
  count=$((count + 1))
  if [[ $name =~ $blocking_re ]]; then
    problems+=("$file:$line: $name may block without a timeout")
  elif [[ $file != "$session" && $file != "${session%.cc}.h" &&
    ! $name =~ $no_io_re ]]; then
    problems+=("$file:$line: $name talks to the server; only PgSession may")
  fi
done < <(calls "${sources[@]}")

at=$(sed -e 's|//.*$||' "$session" | grep -n 'PQgetResult(' | cut -d: -f1 ||
  true)
if [[ $(wc -w <<<"$at") -ne 1 ]]; then
  problems+=("$session: PQgetResult must be called once (lines: ${at:-none})")
elif ! sed -n "$((at - 12)),$((at - 1))p" "$session" |
  grep -q 'while (PQisBusy'; then
  problems+=("$session:$at: PQgetResult without a PQisBusy loop before it")
fi
for required in PQsetnonblocking PQconnectStartParams PQconnectPoll; do
  grep -q "$required(" "$session" ||
    problems+=("$session: no $required: connecting or querying may block")
done

if ((${#problems[@]} > 0)); then
  printf 'check_libpq_bounded: %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "check_libpq_bounded: $count libpq calls in ${#sources[@]} files," \
  "all bounded"
