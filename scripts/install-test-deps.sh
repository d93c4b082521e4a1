#!/usr/bin/env bash
# Installs the Debian packages the e2e suites drive: skopeo and podman (real clients),
# docker-registry (CNCF Distribution, the reference upstream), jq (the README's pipeline) and
# Ceph's monitor, OSD and RADOS Gateway with ceph-common (ceph, radosgw-admin, monmaptool): the
# real S3 the S3 storage driver is tested against (test/helpers/ceph-rgw.ts runs them); and
# HAProxy, the load balancer in front of several Wharf hosts (test/helpers/load-balancer.ts); and
# Chromium, the real browser the web UI suite drives with playwright-core (no browser download).
# The docker CLI is expected on the machine (it needs no daemon for login and manifest commands).
set -euo pipefail
missing=()
command -v skopeo >/dev/null || missing+=(skopeo)
command -v podman >/dev/null || missing+=(podman)
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v jq >/dev/null || missing+=(jq)
command -v haproxy >/dev/null || missing+=(haproxy)
command -v chromium >/dev/null || missing+=(chromium)
command -v ceph-mon >/dev/null || missing+=(ceph-mon)
command -v ceph-osd >/dev/null || missing+=(ceph-osd)
command -v radosgw >/dev/null || missing+=(radosgw)
{ command -v ceph >/dev/null && command -v radosgw-admin >/dev/null && command -v monmaptool >/dev/null; } || missing+=(ceph-common)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing ${missing[*]}: run as root or install them with apt-get" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The tests start the daemons they need themselves: packages must not start theirs (haproxy,
# ceph) as services. policy-rc.d answering 101 is Debian's way to say so.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
