#!/usr/bin/env bash
# Installs what building, testing and the lab need, from Debian's packages.
# Idempotent: installs only what is missing, and runs `apt-get update` once
# when something is. Safe to run as root on a fresh Debian 12 machine.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config
  libpq-dev prometheus-cpp-dev libcivetweb-dev nlohmann-json3-dev
  libboost-program-options-dev libgtest-dev
  # sha256 of backups, and the libssl shim that lets CivetWeb serve HTTPS
  libssl-dev
  # database for tests and the lab
  postgresql-15 postgresql-client-15
  # monitoring path: promtool, Prometheus, Alertmanager
  prometheus prometheus-alertmanager
  # scripts
  curl jq unzip python3 python3-yaml procps iproute2
  # the HTTPS test makes a self-signed certificate
  openssl
  # the fuzzers: libFuzzer and the sanitizer runtimes
  clang-14 libclang-rt-14-dev
  # the failover suite: Patroni over etcd, and the partition faults
  patroni etcd-server etcd-client iptables
  # benchmarks: load generator and the exporter we compare against
  wrk prometheus-postgres-exporter
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages (run as root): ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's packages would start their own daemons where an init system
  # runs; the lab and tests start their own on loopback instead.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

# The postgresql package may have created and started a default cluster;
# nothing here uses it, and it would hold port 5432.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters --no-header 2>/dev/null | while read -r version name _; do
    pg_ctlcluster "$version" "$name" stop >/dev/null 2>&1 || true
  done
fi

"$(dirname "$0")/install-helm.sh"
