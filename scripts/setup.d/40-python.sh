#!/usr/bin/env bash
# Debian's Python with Flask and friends: the Superset blueprint's test
# (deploy/blueprint_test.go) runs the blueprint against the real binary.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
STEP=python
if ! /usr/bin/python3 -c 'import flask, requests, jwt, flask_wtf' >/dev/null 2>&1; then
	apt_install python3 python3-flask python3-requests python3-jwt python3-flaskext.wtf
fi
/usr/bin/python3 -c 'import flask, requests, jwt, flask_wtf'
say "python3 with Flask, requests, PyJWT and Flask-WTF is ready"
