#!/bin/sh
# Headless Chromium for the question page's browser tests (test/browser),
# from Debian's own package. Does nothing when it is already installed.
set -eu
if command -v chromium >/dev/null 2>&1; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "60-chromium: Chromium is missing; run as root: apt-get install -y chromium" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium
