#!/usr/bin/env bash
# Debian packages that tests drive as real parts: Prosody (gateway), Chromium (web UI), MariaDB (server's
# second back end). Installed here, once and one after another, because apt holds one lock and the test
# packages run in parallel; each test setup still installs or explains what it needs when run on its own.
set -euo pipefail
missing=()
command -v prosody >/dev/null || missing+=(prosody)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "[sotto] tests need the Debian packages: ${missing[*]} (apt-get install -y ${missing[*]})" >&2
    exit 0
  fi
  echo "[sotto] installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
