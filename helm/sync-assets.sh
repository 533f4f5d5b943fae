#!/usr/bin/env bash
# Copies the repository's alert rules and dashboards into the chart.
#
# Helm reads only files inside the chart directory, so the chart ships copies:
#   alerts/*.rules.yml   -> helm/cp-ha-sidecar/files/alerts/
#   dashboards/*.json    -> helm/cp-ha-sidecar/files/dashboards/
# alerts/ and dashboards/ stay the one source: edit those, then run this
# script. Copies whose source is gone are removed.
#
# Usage:
#   helm/sync-assets.sh          copy (run before `helm package`)
#   helm/sync-assets.sh --check  change nothing; list every difference and
#                                exit 1 when a copy differs from its source
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
chart_files="$here/cp-ha-sidecar/files"

mode=sync
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
  *) echo "sync-assets: unknown argument: $1" >&2; exit 2 ;;
esac

differences=0

# sync_dir SRC_DIR DEST_DIR GLOB: mirror SRC_DIR/GLOB into DEST_DIR.
sync_dir() {
  local src="$1" dest="$2" glob="$3" f name
  shopt -s nullglob

  # Step 1: every source file must have an identical copy.
  for f in "$src"/$glob; do
    name="$(basename "$f")"
    if cmp -s "$f" "$dest/$name"; then
      continue
    fi
    if [[ "$mode" == check ]]; then
      echo "sync-assets: differs or missing: ${dest#"$repo"/}/$name" \
        "(source ${f#"$repo"/})"
      differences=$((differences + 1))
    else
      mkdir -p "$dest"
      cp "$f" "$dest/$name"
      echo "sync-assets: copied ${f#"$repo"/}"
    fi
  done

  # Step 2: no copy may outlive its source.
  for f in "$dest"/$glob; do
    name="$(basename "$f")"
    [[ -e "$src/$name" ]] && continue
    if [[ "$mode" == check ]]; then
      echo "sync-assets: stale copy: ${f#"$repo"/} (no ${src#"$repo"/}/$name)"
      differences=$((differences + 1))
    else
      rm -f "$f"
      echo "sync-assets: removed stale ${f#"$repo"/}"
    fi
  done
  shopt -u nullglob
}

sync_dir "$repo/alerts" "$chart_files/alerts" '*.rules.yml'
sync_dir "$repo/dashboards" "$chart_files/dashboards" '*.json'

if [[ "$mode" == check ]]; then
  if (( differences > 0 )); then
    echo "sync-assets: $differences difference(s); run helm/sync-assets.sh" >&2
    exit 1
  fi
  echo "sync-assets: chart copies match alerts/ and dashboards/"
fi
