#!/bin/sh
# Lets the proxy tests exercise upstream password authentication on a trust-only server:
# adds, at the top of pg_hba.conf, scram-sha-256 and md5 lines for dedicated test roles and
# reloads. Idempotent. Needs to run as root or postgres (CI: sudo).
set -eu
HBA=$(psql -h 127.0.0.1 -U postgres -Atc 'show hba_file')
MARK="# hoopgate proxy tests"
if ! grep -q "$MARK" "$HBA"; then
  TMP=$(mktemp)
  {
    echo "$MARK"
    echo "host all hoopgate_scram 127.0.0.1/32 scram-sha-256"
    echo "host all hoopgate_md5 127.0.0.1/32 md5"
    cat "$HBA"
  } > "$TMP"
  cat "$TMP" > "$HBA"
  rm -f "$TMP"
fi
psql -h 127.0.0.1 -U postgres -Atc 'select pg_reload_conf()' >/dev/null
