#!/usr/bin/env bash
# Installs the Debian packages the tests drive (real clients and proxies). Under CI a failure is fatal.
set -euo pipefail
packages=(python3 swaks haproxy nginx-light libnginx-mod-stream openssl python3-dkim python3-nacl python3-authres postfix isync mutt dovecot-imapd dovecot-core pebble systemd chromium iproute2 git)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # postfix: the tests run private instances; the system one stays unconfigured (and not started)
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
  dpkg --configure -a || true   # finish any install an earlier run left half-done
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
