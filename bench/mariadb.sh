#!/usr/bin/env bash
# A local MariaDB for bench/node/overlay-engine-load.mjs (@bsv/overlay's Engine on KnexStorage): installs
# mariadb-server with apt when no server binary is found, starts it when it is not answering (without systemd:
# `service mariadb start`, else mysqld_safe in the background), creates the database and user idempotently, and
# prints the mysql:// URL to hand to --mysql. Run as root; every step is safe to repeat.
#
#   bash bench/mariadb.sh            # prints mysql://bench:bench@127.0.0.1:3306/overlay_bench
#
# Environment: MARIADB_DB (overlay_bench), MARIADB_USER (bench), MARIADB_PASSWORD (bench), MARIADB_PORT (3306).
set -euo pipefail

db="${MARIADB_DB:-overlay_bench}"
user="${MARIADB_USER:-bench}"
password="${MARIADB_PASSWORD:-bench}"
port="${MARIADB_PORT:-3306}"
log() { echo "[mariadb] $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "[mariadb] run as root (it installs and starts the server)" >&2
  exit 1
fi

# 1. Install the server if neither of its binaries is there.
have_server() { command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || [ -x /usr/sbin/mysqld ]; }
if ! have_server; then
  log "installing mariadb-server"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2
  apt-get install -y -q mariadb-server mariadb-client >&2
fi

# The admin client: root over the unix socket (Debian's MariaDB authenticates root by unix_socket).
client="$(command -v mariadb || command -v mysql)"
admin() { "$client" --protocol=socket -uroot "$@"; }
alive() { admin -e 'SELECT 1' >/dev/null 2>&1; }

# 2. Start it if it is not answering.
if ! alive; then
  log "starting the server"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  if ! service mariadb start >&2 2>&1; then
    log "service mariadb start failed; starting mysqld_safe"
    nohup mysqld_safe --user=mysql --port="$port" --bind-address=127.0.0.1 >/var/log/mysqld_safe.out 2>&1 &
  fi
  for _ in $(seq 1 60); do
    alive && break
    sleep 1
  done
  alive || { log "the server did not come up; see /var/log/mysql/ and /var/log/mysqld_safe.out"; exit 1; }
fi

# 3. The database and the user, idempotently (both 127.0.0.1 and localhost, as clients name the host either way).
admin <<SQL
CREATE DATABASE IF NOT EXISTS \`${db}\`;
CREATE USER IF NOT EXISTS '${user}'@'127.0.0.1' IDENTIFIED BY '${password}';
CREATE USER IF NOT EXISTS '${user}'@'localhost' IDENTIFIED BY '${password}';
ALTER USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}';
ALTER USER '${user}'@'localhost' IDENTIFIED BY '${password}';
GRANT ALL PRIVILEGES ON \`${db}\`.* TO '${user}'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`${db}\`.* TO '${user}'@'localhost';
FLUSH PRIVILEGES;
SQL

# 4. Check the URL works over TCP, as the benchmark connects, then print it.
"$client" --protocol=tcp -h127.0.0.1 -P"$port" -u"$user" -p"$password" "$db" -e 'SELECT 1' >/dev/null
log "ready: $("$client" --protocol=tcp -h127.0.0.1 -P"$port" -u"$user" -p"$password" -N -e 'SELECT VERSION()')"
echo "mysql://${user}:${password}@127.0.0.1:${port}/${db}"
