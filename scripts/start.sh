#!/usr/bin/env bash
# Starts Wharf from a fresh clone: installs npm packages if needed, builds if the sources
# changed since the last build, runs.
# Without DATABASE_URL, Wharf uses its embedded database under $WHARF_DATA_DIR/pg (./data/pg).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/build-if-needed.sh
exec node dist/apps/server/src/main.js
