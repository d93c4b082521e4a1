#!/usr/bin/env bash
# Installs the Debian packages the e2e suites drive: skopeo and podman (real clients),
# docker-registry (CNCF Distribution, the reference upstream) and jq (the README's pipeline).
# The docker CLI is expected on the machine (it needs no daemon for login and manifest commands).
set -euo pipefail
missing=()
command -v skopeo >/dev/null || missing+=(skopeo)
command -v podman >/dev/null || missing+=(podman)
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v jq >/dev/null || missing+=(jq)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing ${missing[*]}: run as root or install them with apt-get" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
