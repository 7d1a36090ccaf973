#!/usr/bin/env bash
# Speed comparison of the validator with node-sql-parser's whiteListCheck on
# the benchmark gold queries. See README.md.
#
#   test/sqlguardbench/run.sh [passes]      (default 5)
#
# Environment: PIN_CPU=<n> pins both tools to that CPU (default: the last
# one; PIN_CPU= to not pin), PROFILE=1 keeps a CPU profile of our timed
# passes, KEEP=1 keeps the work directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
passes=${1:-5}
cpu=${PIN_CPU-$(($(nproc) - 1))}

work=$(mktemp -d "${TMPDIR:-/tmp}/sqlguardbench.XXXXXX")
if [[ "${KEEP:-}" == 1 || "${PROFILE:-}" == 1 ]]; then
	echo "work directory: $work"
else
	trap 'rm -rf "$work"' EXIT
fi

pin=()
if [[ -n "$cpu" ]] && command -v taskset >/dev/null; then
	pin=(taskset -c "$cpu")
else
	cpu=""
fi

# node-sql-parser, exactly as package-lock.json pins it, into the throwaway
# directory (npm's cache may serve it).
cp "$here/package.json" "$here/package-lock.json" "$work/"
(cd "$work" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

cd "$root"
go build -o "$work/sqlguardbench" ./test/sqlguardbench
"$work/sqlguardbench" export -out "$work"

echo "load before: $(uptime)"
echo "pinned to CPU: ${cpu:-none}; passes: $passes"
"${pin[@]}" node "$here/bench.mjs" --nsp "$work" --dir "$work" --passes "$passes"
prof=()
if [[ "${PROFILE:-}" == 1 ]]; then
	prof=(-profiledir "$work")
fi
"${pin[@]}" "$work/sqlguardbench" bench -dir "$work" -passes "$passes" "${prof[@]}"
echo "load after: $(uptime)"
if [[ "${PROFILE:-}" == 1 ]]; then
	for d in mysql postgresql; do
		echo
		echo "== CPU profile of our timed passes, $d: $work/cpu-$d.pprof"
		go tool pprof -top -cum -nodecount=40 "$work/sqlguardbench" "$work/cpu-$d.pprof" 2>/dev/null | sed -n '4,50p'
	done
fi
