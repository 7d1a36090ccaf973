#!/usr/bin/env bash
# MariaDB on 127.0.0.1:3306, root with an empty password: the MySQL
# adapter's server checks and SpiderMan's databases.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
STEP=mariadb
ping_mariadb() { mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping; }
if ! ping_mariadb >/dev/null 2>&1; then
	say "starting MariaDB"
	as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
wait_for MariaDB ping_mariadb
