#!/bin/sh
# Dumps the metadata database in pg_dump's custom format (compressed,
# restorable table by table with pg_restore) and checks the archive reads
# back.
set -eu
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="/backup/metadata-${stamp}.dump"
pg_dump --format=custom --no-owner --no-privileges --file="${out}"
pg_restore --list "${out}" > /dev/null
echo "${out}: $(wc -c < "${out}") bytes"
