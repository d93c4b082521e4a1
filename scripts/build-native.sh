#!/usr/bin/env bash
# Builds the sendfile addon (libs/storage/native) with node-gyp against this Node's own headers.
# Optional for running Wharf: without it, blob downloads stream through Node (a warning says so).
# The test suite builds it too and checks that it works.
set -euo pipefail
cd "$(dirname "$0")/../libs/storage/native"
[ "$(uname -s)" = Linux ] || { echo "sendfile addon: Linux only, skipped"; exit 0; }

# npm ships node-gyp; `npm run` names it in npm_config_node_gyp.
gyp="${npm_config_node_gyp:-$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js}"
# Headers next to the node binary (official builds, Debian's, the node image) need no download.
prefix="$(dirname "$(dirname "$(command -v node)")")"
args=()
[ -f "$prefix/include/node/node_api.h" ] && args+=("--nodedir=$prefix")

if [ -f build/Release/wharf_sendfile.node ] && [ build/Release/wharf_sendfile.node -nt sendfile.c ] && [ build/Release/wharf_sendfile.node -nt binding.gyp ]; then
  exit 0 # up to date
fi
node "$gyp" rebuild "${args[@]}" --loglevel=warn
