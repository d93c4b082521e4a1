#!/usr/bin/env bash
# `npm run bench` from a fresh clone: installs Distribution (the reference registry) and the
# npm packages when missing, builds Wharf (the server, then the web UI into dist/web), then runs
# bench/run.ts (arguments pass through).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
bash scripts/ensure-node-modules.sh
npm run build --silent
exec npx ts-node --transpile-only bench/run.ts "$@"
