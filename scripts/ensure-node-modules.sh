#!/usr/bin/env bash
# Runs `npm ci` when node_modules is missing or older than the lockfile (test and bench share this rule).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
