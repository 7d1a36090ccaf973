#!/usr/bin/env bash
# Redis on 127.0.0.1:6379, in memory only: the shared answer cache.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
STEP=redis
ping_redis() { redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG; }
if ! ping_redis >/dev/null 2>&1; then
	say "starting Redis"
	redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
fi
wait_for Redis ping_redis
