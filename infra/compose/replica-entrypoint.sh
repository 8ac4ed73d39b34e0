#!/bin/bash
# Streaming replica: clone the primary once (pg_basebackup -R writes standby.signal and the
# connection), then run as a hot standby. Reads only; the app sends read-only pages here.
set -euo pipefail
PGDATA=/var/lib/postgresql/data/pgdata
if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  rm -rf "$PGDATA"
  pg_basebackup -h postgres-primary -U replicator -D "$PGDATA" -R -X stream -P
  chmod 0700 "$PGDATA"
fi
exec postgres -D "$PGDATA" -c hot_standby=on
