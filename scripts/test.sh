#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need (Debian packages
# for the real clients and the reference registry, npm packages), then runs unit and e2e
# suites against a fresh database on the local Postgres, and ends with `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh || { echo "installing test dependencies failed"; echo "0 passed, 1 failed"; exit 1; }
bash scripts/ensure-node-modules.sh || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
# The cluster suite runs the built server (node dist/.../main.js), as users do.
npx nest build || { echo "the build failed"; echo "0 passed, 1 failed"; exit 1; }

# Each e2e suite creates (and drops) its own database through this admin connection.
export WHARF_TEST_PG_ADMIN_URL="${WHARF_TEST_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

# Style is the tools' habit, not memory's: Biome's lint and format check count as one test.
if npx biome check .; then style=0; else style=1; echo "lint/format: npm run format fixes what it can"; fi

results="$(mktemp -t wharf-jest-XXXXXX.json)"
npx jest --runInBand --json --outputFile="$results" "$@"
status=$?
node -e '
  const r = require(process.argv[1]);
  const style = Number(process.argv[2]);
  const failed = r.numFailedTests + r.numRuntimeErrorTestSuites + style;
  console.log(`${r.numPassedTests + 1 - style} passed, ${failed} failed`);
' "$results" "$style" || echo "0 passed, 1 failed"
[ "$style" -eq 0 ] || status=1
rm -f "$results"
exit $status
