#!/usr/bin/env bash
# Prepares this machine for `npm test`: the real clients and peers the tests
# drive, PostgreSQL on 127.0.0.1:5432 with trust authentication, and the npm
# dependencies. As root it installs and starts what is missing (Debian); as
# another user it says exactly what to install and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

packages=(swaks libnet-ssleay-perl libio-socket-ssl-perl openssl curl python3 ca-certificates isync fetchmail python3-dkim python3-prometheus-client clamav-daemon clamdscan clamav-testfiles yara softhsm2 opensc gpgsm chromium testssl.sh gsasl sieve-connect msmtp)
missing=()
if command -v dpkg-query >/dev/null; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
else
  echo "not a Debian system: make sure these (or their equivalents) are installed: ${packages[*]}" >&2
fi

pg_up() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
need_pg=0
pg_up || need_pg=1
if [ "$need_pg" = 1 ] && [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then missing+=(postgresql); fi

if [ "$(id -u)" != 0 ]; then
  if [ ${#missing[@]} -gt 0 ] || [ "$need_pg" = 1 ]; then
    echo "postern's tests drive real clients and a real PostgreSQL server; this machine lacks some." >&2
    [ ${#missing[@]} -gt 0 ] && echo "  install: sudo apt-get install ${missing[*]}" >&2
    [ "$need_pg" = 1 ] && echo "  start PostgreSQL on 127.0.0.1:5432 with 'host all all 127.0.0.1/32 trust' in pg_hba.conf" >&2
    echo "  (or run 'npm test' as root on Debian, and it does both)" >&2
    exit 1
  fi
else
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # The malware tests start their own clamd with a tiny database; the packaged
    # services (and freshclam, which would go online) are not wanted.
    if [[ " ${missing[*]} " == *" clamav-daemon "* ]] && command -v systemctl >/dev/null; then
      systemctl disable --now clamav-freshclam clamav-daemon >/dev/null 2>&1 || true
    fi
  fi
  if ! pg_up; then
    pgv=$(ls /etc/postgresql | sort -V | tail -1)
    hba=/etc/postgresql/$pgv/main/pg_hba.conf
    grep -q '^host all all 127.0.0.1/32 trust' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$pgv" main start || pg_ctlcluster --skip-systemctl-redirect "$pgv" main reload
    for _ in $(seq 30); do pg_up && break; sleep 1; done
    pg_up || { echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }
  fi
fi

# npm dependencies, when this is a fresh clone.
[ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund

# The DLP extraction tests make real DOCX, XLSX and PDF files (python3-docx, -openpyxl, -reportlab; run by
# /usr/bin/python3) and password-protected ZIPs (zip).
dlp_missing=()
if command -v dpkg-query >/dev/null; then
  for p in python3-docx python3-openpyxl python3-reportlab zip; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || dlp_missing+=("$p")
  done
fi
if [ ${#dlp_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${dlp_missing[@]}" >/dev/null
  else
    echo "the DLP extraction tests need: sudo apt-get install ${dlp_missing[*]}" >&2
    exit 1
  fi
fi
