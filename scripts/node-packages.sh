#!/usr/bin/env bash
# npm packages the tests run with the machine's Node.js: Azurite (the Azure Blob Storage emulator).
# Installed once into var/node/ (gitignored); run again, it does nothing while the pinned version is there.
set -euo pipefail
cd "$(dirname "$0")/.."

AZURITE_VERSION=3.35.0  # the last release that runs on Node.js 20 (3.36 wants 21, 3.37 wants 22)
prefix=var/node
installed="$prefix/node_modules/azurite/package.json"

if [[ -f "$installed" ]] && grep -q "\"version\": \"$AZURITE_VERSION\"" "$installed"; then
  exit 0
fi

if ! command -v npm > /dev/null || ! command -v node > /dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "dbdeck's tests need Node.js and npm (for Azurite)." >&2
    echo "Install them with: sudo apt-get update && sudo apt-get install -y --no-install-recommends nodejs npm" >&2
    exit 1
  fi
  echo "Installing Debian packages: nodejs npm"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi

echo "Installing Azurite $AZURITE_VERSION into $prefix/"
mkdir -p "$prefix"
npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
  "azurite@$AZURITE_VERSION"
