#!/usr/bin/env bash
# Stops the lab started by lab/up.sh: both sidecars (SIGTERM, so the leader
# resigns), then the PostgreSQL pair or the Patroni cluster, and removes the
# lab directory.
set -euo pipefail
# shellcheck source=lab/lab-env.sh
source "$(dirname "$0")/lab-env.sh"

stop_sidecars() {
  local pid_file pid
  for pid_file in "$LAB_DIR"/sidecar-*.pid; do
    [[ -f $pid_file ]] || continue
    pid=$(<"$pid_file")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pid_file"
  done
}

if [[ ! -d $LAB_DIR ]]; then
  echo "lab: nothing to stop ($LAB_DIR does not exist)"
  exit 0
fi
stop_sidecars
if [[ -f $PG_DIR/ports ]]; then
  "$PGPAIR" destroy "$PG_DIR"
fi
if [[ -f $PATRONI_DIR/ports ]]; then
  "$PATRONI" destroy "$PATRONI_DIR"
fi
rm -rf "$LAB_DIR"
echo "lab: stopped and removed $LAB_DIR"
