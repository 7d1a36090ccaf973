# Shell functions for scripts/test and its set-up steps, sourced, not run.
#
# A step is scripts/setup.d/NN-name.sh, run with bash in name order: it
# starts or installs one thing the tests need when it is missing, waits until
# it answers, and fails loudly when it cannot. A step that must tell the tests
# something (a path, an address) appends KEY=VALUE lines to "$SETUP_ENV".

# say MESSAGE...: a progress line, prefixed with the step's name.
say() { echo "${STEP:-test}: $*"; }

# wait_for NAME COMMAND...: retry COMMAND until it succeeds, for up to 60 s.
wait_for() {
	local name=$1
	shift
	for _ in $(seq 1 120); do
		if "$@" >/dev/null 2>&1; then
			say "$name is up"
			return 0
		fi
		sleep 0.5
	done
	say "$name did not come up within 60 s" >&2
	return 1
}

# as_root COMMAND...: run COMMAND as root (through sudo when not root).
as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		say "needs root for: $*" >&2
		return 1
	fi
}

# apt_install PACKAGE...: install the Debian packages not yet installed;
# the package lists are refreshed first when they are empty or a day old.
apt_install() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing Debian packages: ${missing[*]}"
	if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
		as_root apt-get update -q >/dev/null
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}
