#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need (Debian packages
# for the real clients and the reference registry, npm packages), then runs unit and e2e
# suites against a fresh database on the local Postgres, and ends with `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh || { echo "installing test dependencies failed"; echo "0 passed, 1 failed"; exit 1; }
bash scripts/ensure-node-modules.sh || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
# The cluster suite runs the built server (node dist/.../main.js), as users do; the web UI suites
# the built UI (dist/web): `npm run build` is nest build, then vite build.
npm run build --silent || { echo "the build failed"; echo "0 passed, 1 failed"; exit 1; }

# Each e2e suite creates (and drops) its own database through this admin connection.
export WHARF_TEST_PG_ADMIN_URL="${WHARF_TEST_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

# Style is the tools' habit, not memory's: Biome's lint and format check count as one test.
if npx biome check .; then style=0; else style=1; echo "lint/format: npm run format fixes what it can"; fi

results="$(mktemp -t wharf-jest-XXXXXX.json)"
npx jest --runInBand --json --outputFile="$results" "$@"
status=$?

# OCI conformance, the real clients, the remote caches and garbage collection again on the scale-out deployment:
# two hosts on one database and one S3 bucket (Ceph RGW) behind HAProxy (test/helpers/scale-out-deployment.ts).
scaled="$(mktemp -t wharf-jest-scale-out-XXXXXX.json)"
if [ "$#" -eq 0 ]; then
  WHARF_TEST_DEPLOYMENT=scale-out npx jest --runInBand --json --outputFile="$scaled" \
    test/manifests test/blobs-uploads test/listings-referrers test/names-errors test/clients test/remote-blobs test/remote-manifests test/remote-clients test/gc.e2e
  [ $? -eq 0 ] || status=1
else
  echo '{"numPassedTests":0,"numFailedTests":0,"numRuntimeErrorTestSuites":0}' > "$scaled"
fi

node -e '
  const [single, scaled] = [require(process.argv[1]), require(process.argv[2])];
  const style = Number(process.argv[3]);
  const sum = (key) => single[key] + scaled[key];
  const failed = sum("numFailedTests") + sum("numRuntimeErrorTestSuites") + style;
  console.log(`${sum("numPassedTests") + 1 - style} passed, ${failed} failed`);
' "$results" "$scaled" "$style" || echo "0 passed, 1 failed"
[ "$style" -eq 0 ] || status=1
rm -f "$results" "$scaled"
exit $status
