#!/usr/bin/env bash
# PostgreSQL on 127.0.0.1:5432, user postgres without a password (the
# cluster's pg_hba.conf trusts loopback): the validators' dry runs, the
# benchmark databases of golden/execdb and the golden sets.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
STEP=postgres
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
	say "starting PostgreSQL"
	# shellcheck disable=SC2046 # one cluster version directory
	as_root pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
fi
wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
