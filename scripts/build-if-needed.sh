#!/usr/bin/env bash
# Builds the server and the web UI (`npm run build`: nest build, then vite build into dist/web) unless dist/ was built from these very sources, so a second
# `npm start` does not spend half a minute rebuilding what it has.
#
# The sources' fingerprint is every build input's path, size and modification time (apps, libs,
# migrations without their *.spec.ts, tsconfig*.json, nest-cli.json, package-lock.json): any
# edit, added, deleted or renamed file, or a file put back with an older time changes it.
# It is taken before the build and written to dist/.build-fingerprint only after the build
# succeeded: a failed or interrupted build leaves none (nest build empties dist/ first, and so
# does this script's rm), and an edit made during the build makes the next start build again.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=dist/.build-fingerprint
current="$(node -e '
  const fs = require("node:fs");
  const path = require("node:path");
  const inputs = [];
  for (const dir of ["apps", "libs", "migrations"]) {
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir, { recursive: true })) {
      const file = path.join(dir, entry);
      if (!file.endsWith(".spec.ts")) inputs.push(file);
    }
  }
  for (const file of fs.readdirSync(".")) if (/^tsconfig.*\.json$|^nest-cli\.json$|^package-lock\.json$/.test(file)) inputs.push(file);
  const hash = require("node:crypto").createHash("sha256");
  for (const file of inputs.sort()) {
    const stat = fs.statSync(file);
    hash.update(stat.isDirectory() ? `${file}/\n` : `${file} ${stat.size} ${stat.mtimeMs}\n`);
  }
  console.log(hash.digest("hex"));
')"

if [ -f dist/apps/server/src/main.js ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$current" ]; then
  echo "build: dist/ is up to date with the sources, not rebuilding" >&2
  exit 0
fi
echo "build: $([ -f "$stamp" ] && echo 'the sources changed since the last build' || echo 'no finished build of these sources'), building" >&2
rm -f "$stamp"
npm run build --silent
printf '%s\n' "$current" > "$stamp"
