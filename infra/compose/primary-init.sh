#!/bin/bash
# First start of the primary: a replication role and pg_hba entry for the streaming replica.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
  -c "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD 'finpulse-replication'"
echo "host replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
