#!/usr/bin/env bash
# `npm run bench` from a fresh clone: installs Distribution (the reference registry) and the
# npm packages when missing, builds Wharf, then runs bench/run.ts (arguments pass through).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
bash scripts/ensure-node-modules.sh
npx nest build
exec npx ts-node --transpile-only bench/run.ts "$@"
