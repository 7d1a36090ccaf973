#!/usr/bin/env bash
# Debian's headless Chromium: the question page's browser tests (test/browser)
# drive it against the real binary.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
STEP=chromium
if ! command -v chromium >/dev/null 2>&1; then
	apt_install chromium
fi
say "$(chromium --version 2>/dev/null | head -n 1) is ready"
