#!/bin/sh
# Keeps the last BACKUP_RETENTION_DAYS days of archives on the backup volume
# and fails if this run left no fresh archive of either kind.
set -eu
days="${BACKUP_RETENTION_DAYS:-14}"
find /backup -maxdepth 1 -type f \( -name 'dashboards-*.zip' -o -name 'metadata-*.dump' \) -mtime +"${days}" -print -delete
for kind in dashboards metadata; do
  if [ -z "$(find /backup -maxdepth 1 -type f -name "${kind}-*" -mmin -120)" ]; then
    echo "no ${kind} archive from this run in /backup" >&2
    exit 1
  fi
done
ls -l /backup
