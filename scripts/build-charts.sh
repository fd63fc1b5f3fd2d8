#!/usr/bin/env bash
# Vendor uPlot (the monitoring charts) from npm into static/vendor/uplot/ with its licence.
# Run once when upgrading; the output is committed, so dbdeck needs no npm or CDN at run time.
set -euo pipefail
VERSION="${UPLOT_VERSION:-1.6.31}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/static/vendor/uplot"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "uplot@$VERSION" >/dev/null
tar -xzf "uplot-$VERSION.tgz"
mkdir -p "$OUT"
cp package/dist/uPlot.iife.min.js "$OUT/uPlot.iife.min.js"
cp package/dist/uPlot.min.css "$OUT/uPlot.min.css"
cp package/LICENSE "$OUT/LICENSE"
printf 'uPlot %s from npm (https://www.npmjs.com/package/uplot), built by scripts/build-charts.sh\n' "$VERSION" >"$OUT/VERSION"
echo "uPlot $VERSION -> $OUT"
