#!/bin/sh
# First start of the database container: the owner role (migrations, owns the tables) and
# the app role (reads and writes rows, always under row-level security).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE salesdesk_owner LOGIN PASSWORD '${SALESDESK_OWNER_PASSWORD}';
CREATE ROLE salesdesk_app LOGIN PASSWORD '${SALESDESK_APP_PASSWORD}'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
CREATE DATABASE salesdesk OWNER salesdesk_owner;
SQL
