#!/bin/sh
# Holds a Superset pod back until the metadata database is reachable and
# migrated to this image's version (the init Job does the migrating), so a
# new version never serves against an old schema.
set -u
deadline=$(( $(date +%s) + ${WAIT_FOR_MIGRATIONS_SECONDS:-900} ))
while :; do
  if superset db current 2>&1 | grep -q '(head)'; then
    echo "metadata database is at this version's migration head"
    exit 0
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "metadata database not migrated to this version in time; is the superset-init Job for this version done?" >&2
    exit 1
  fi
  echo "waiting for the metadata database migrations"
  sleep 10
done
