# Sourced by scripts/test and scripts/bench: a throwaway PostgreSQL cluster and Redis server
# from the system's packages (installed with apt-get when absent) on free loopback ports,
# with the owner and app roles, exported as DATABASE_URL & co.; removed on exit.
# EXTRA_PACKAGES: more apt packages the caller needs (chromium, gettext).
# PG_OPTIONS: more server settings (-c name=value ...).

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

missing=()
[ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
for package in ${EXTRA_PACKAGES:-}; do
  case "$package" in
    chromium) command -v chromium >/dev/null || missing+=(chromium) ;;
    gettext) command -v msgfmt >/dev/null || missing+=(gettext) ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
PG_BIN="$(pg_bin)"

WORK="$(mktemp -d /tmp/salesdesk-test.XXXXXX)"
chmod 755 "$WORK"
free_port() { python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PG_PORT="$(free_port)"
REDIS_PORT="$(free_port)"

# initdb refuses to run as root: the cluster belongs to the postgres user then.
if [ "$(id -u)" = 0 ]; then
  chown postgres "$WORK"
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

cleanup() {
  status=$?
  as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$WORK/redis.pid" ] && kill "$(cat "$WORK/redis.pid")" 2>/dev/null || true
  rm -rf "$WORK"
  exit $status
}
trap cleanup EXIT INT TERM

echo "==> PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT"
echo "postgres" > "$WORK/pwfile"
chmod 644 "$WORK/pwfile"
as_pg "$PG_BIN/initdb" -D "$WORK/pg" -U postgres --pwfile="$WORK/pwfile" -A scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w start -o \
  "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 ${PG_OPTIONS:-}" \
  >/dev/null
export PGPASSWORD=postgres
psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 <<'SQL'
-- The owner runs migrations and owns the tables; the app role only reads and writes rows,
-- so row-level security always applies to it.
CREATE ROLE salesdesk_owner LOGIN PASSWORD 'owner' CREATEDB;
CREATE ROLE salesdesk_app LOGIN PASSWORD 'app' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
CREATE DATABASE salesdesk OWNER salesdesk_owner;
SQL
unset PGPASSWORD

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log" --dir "$WORK"

export DATABASE_URL="postgres://salesdesk_app:app@127.0.0.1:$PG_PORT/salesdesk"
export DATABASE_OWNER_URL="postgres://salesdesk_owner:owner@127.0.0.1:$PG_PORT/salesdesk"
export DATABASE_ADMIN_URL="postgres://postgres:postgres@127.0.0.1:$PG_PORT/salesdesk"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export SECRET_KEY="test-only-$(python -c 'import secrets; print(secrets.token_urlsafe(40))')"
export DEBUG=0 SECURE=0 AXES_ENABLED=1 FAST_PASSWORD_HASHER=1
export CHROMIUM_PATH="$(command -v chromium)"

