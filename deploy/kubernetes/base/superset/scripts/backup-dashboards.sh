#!/bin/sh
# Exports every dashboard (with its charts, datasets and database
# connections, passwords excluded) to a ZIP that `superset
# import-dashboards` restores. The export runs as the user named "admin",
# as Superset's CLI does.
set -eu
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="/backup/dashboards-${stamp}.zip"
superset export-dashboards -f "${out}"
# The CLI logs failures and may still exit 0: check the archive itself.
python - "${out}" <<'PY'
import sys, zipfile
path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    bad = z.testzip()
    if bad:
        sys.exit(f"{path}: corrupt member {bad}")
    names = z.namelist()
    if not any(n.endswith("metadata.yaml") for n in names):
        sys.exit(f"{path}: no metadata.yaml, not a Superset export")
    print(f"{path}: {len(names)} files, {sum(1 for n in names if '/dashboards/' in n)} dashboards")
PY
