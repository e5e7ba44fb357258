#!/usr/bin/env bash
# Gives Grafana's read-only role (created by init.sql) its password, from the environment. The postgres image runs
# /docker-entrypoint-initdb.d/* in name order on the first start (empty data directory) only, so this file is named
# to run after init.sql. The password reaches psql as a variable and is quoted by psql (:'password'), never spliced
# into the SQL text.
set -euo pipefail
: "${GRAFANA_DB_PASSWORD:?set GRAFANA_DB_PASSWORD (see docker/.env.example)}"
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" \
     -v password="$GRAFANA_DB_PASSWORD" <<'SQL'
ALTER ROLE trainwatch_grafana WITH LOGIN PASSWORD :'password';
SQL
echo "zz-grafana-password.sh: password set for role trainwatch_grafana"
