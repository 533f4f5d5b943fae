# Shared settings of lab/up.sh and lab/down.sh; sourced, not run.
# shellcheck shell=bash
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# PostgreSQL runs as an unprivileged user, who must be able to reach the
# lab directory: keep it under /tmp rather than inside the checkout.
LAB_DIR=${CP_HA_LAB_DIR:-/tmp/cp-ha-lab}
PG_DIR="$LAB_DIR/pg"
PRIMARY_PORT=${CP_HA_LAB_PRIMARY_PORT:-25432}
STANDBY_PORT=${CP_HA_LAB_STANDBY_PORT:-25433}
SIDECAR_PORTS=(${CP_HA_LAB_SIDECAR_PORTS:-18088 18089})
BUILD_DIR="$REPO_DIR/build"
SIDECAR_BIN="$BUILD_DIR/exporter/cp-ha-sidecar"
PGPAIR="$REPO_DIR/lab/pgpair.sh"
# lab/up.sh --patroni: etcd and two Patroni nodes on PATRONI_BASE_PORT..+5.
PATRONI_DIR="$LAB_DIR/patroni"
PATRONI_BASE_PORT=${CP_HA_LAB_PATRONI_BASE_PORT:-25440}
PATRONI="$REPO_DIR/lab/patroni.sh"
