#!/usr/bin/env bash
# Build the console's CodeMirror 6 bundle once, at development time, from npm packages:
# static/vendor/codemirror/editor.js (+ LICENSE). The result is committed; no CDN, no npm at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=static/vendor/codemirror
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp scripts/editor/entry.js "$WORK/entry.js"
(
  cd "$WORK"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --silent \
    codemirror@6.0.2 @codemirror/lang-sql@6 @codemirror/lang-json@6 @codemirror/view@6 esbuild@0.24.2
  npx esbuild entry.js --bundle --minify --format=iife --target=es2019 --outfile=editor.js
)
mkdir -p "$OUT"
cp "$WORK/editor.js" "$OUT/editor.js"
{
  echo "CodeMirror 6 (https://codemirror.net), MIT licence, bundled by scripts/build-editor.sh."
  echo
  cat "$WORK/node_modules/codemirror/LICENSE"
  for pkg in "$WORK"/node_modules/@codemirror/* "$WORK"/node_modules/@lezer/* "$WORK"/node_modules/style-mod "$WORK"/node_modules/w3c-keyname "$WORK"/node_modules/crelt; do
    if [ -f "$pkg/package.json" ]; then
      echo "- $(basename "$(dirname "$pkg")")/$(basename "$pkg") $(node -p "require('$pkg/package.json').version") ($(node -p "require('$pkg/package.json').license"))"
    fi
  done
} >"$OUT/LICENSE"
: >"$OUT/editor.css"  # CodeMirror 6 injects its styles through style-mod; the console's own rules are in dbdeck.css
echo "built $OUT/editor.js ($(wc -c <"$OUT/editor.js") bytes)"
