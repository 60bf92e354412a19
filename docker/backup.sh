#!/bin/sh
# The backup service (docker-compose.yml): a custom-format pg_dump of the whole installation
# every night at BACKUP_HOUR (UTC, the container's clock) into $BACKUP_DIR, keeping the
# dumps of the last BACKUP_KEEP_DAYS days. `docker compose run --rm backup now` dumps once.
# The restore is in docs/backup.md.
set -eu
BACKUP_DIR="${BACKUP_DIR:-/backups}"
BACKUP_HOUR="${BACKUP_HOUR:-2}"
BACKUP_KEEP_DAYS="${BACKUP_KEEP_DAYS:-14}"

dump() {
  name="salesdesk-$(date -u +%Y-%m-%dT%H%M%SZ).dump"
  # Written aside and renamed, so that a half-written file never looks like a backup.
  pg_dump --format=custom --file="$BACKUP_DIR/.$name.partial" && \
    mv "$BACKUP_DIR/.$name.partial" "$BACKUP_DIR/$name" && \
    echo "backup: $BACKUP_DIR/$name written" || {
      echo "backup: pg_dump failed" >&2
      rm -f "$BACKUP_DIR/.$name.partial"
      return 1
    }
  find "$BACKUP_DIR" -maxdepth 1 -name 'salesdesk-*.dump' -mtime "+$((BACKUP_KEEP_DAYS - 1))" \
    -print -delete
}

mkdir -p "$BACKUP_DIR"
if [ "${1:-}" = now ]; then
  dump
  exit
fi
while true; do
  # Sleep until the next BACKUP_HOUR:00 UTC.
  now=$(date -u +%s)
  next=$(date -u -d "$(date -u +%Y-%m-%d) $BACKUP_HOUR:00" +%s)
  [ "$next" -le "$now" ] && next=$((next + 86400))
  sleep $((next - now))
  dump || true
done
