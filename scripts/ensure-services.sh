#!/bin/sh
# PostgreSQL (127.0.0.1:5432, database "test") and Redis (127.0.0.1:6379) for the tests.
# Starts them when they are installed but down; installs them with apt when missing and root.
set -eu

as_root() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! command -v pg_ctlcluster >/dev/null 2>&1 && as_root; then
  echo "Installing PostgreSQL"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fresh_pg=1
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_up; then
  version=$(ls /etc/postgresql | sort -V | tail -1)
  if [ "${fresh_pg:-0}" = 1 ]; then
    # A fresh Debian cluster asks for passwords over TCP; tests connect as postgres locally.
    echo "host all all 127.0.0.1/32 trust" >> "/etc/postgresql/$version/main/pg_hba.conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
for _ in 1 2 3 4 5 6 7 8 9 10; do pg_up && break; sleep 1; done
if pg_up; then
  psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" \
    | grep -q 1 || psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"
else
  echo "PostgreSQL is not reachable on 127.0.0.1:5432; its tests will fail." >&2
fi

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }
if ! command -v redis-server >/dev/null 2>&1 && as_root; then
  echo "Installing Redis"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
if command -v redis-server >/dev/null 2>&1 && ! redis_up; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi
for _ in 1 2 3 4 5; do redis_up && break; sleep 1; done
redis_up || echo "Redis is not reachable on 127.0.0.1:6379; its tests will fail." >&2
