#!/bin/sh
# Brings the metadata database to the running Superset version and makes
# sure the admin and text2sql's service account exist. Safe to run again:
# every step is idempotent, and the service account's password is reset to
# the one in the Secret each time, so rotating it is "update the Secret,
# run this Job, restart text2sql".
set -eu

echo "init: applying metadata database migrations"
superset db upgrade

echo "init: syncing built-in roles and permissions"
superset init

echo "init: admin user ${ADMIN_USERNAME}"
superset fab create-admin \
  --username "${ADMIN_USERNAME}" \
  --firstname Superset \
  --lastname Admin \
  --email "${ADMIN_EMAIL}" \
  --password "${ADMIN_PASSWORD}"

echo "init: role ${SERVICE_ACCOUNT_ROLE} and service account ${SERVICE_ACCOUNT_USERNAME}"
superset fab import-roles --path /app/scripts/text2sql-role.json
superset fab create-user \
  --role "${SERVICE_ACCOUNT_ROLE}" \
  --username "${SERVICE_ACCOUNT_USERNAME}" \
  --firstname text2sql \
  --lastname service \
  --email "${SERVICE_ACCOUNT_EMAIL}" \
  --password "${SERVICE_ACCOUNT_PASSWORD}"
superset fab reset-password \
  --username "${SERVICE_ACCOUNT_USERNAME}" \
  --password "${SERVICE_ACCOUNT_PASSWORD}"

echo "init: done"
