#!/usr/bin/env bash
# Makes sure what cratedigger needs on this machine is there and running, and says what it
# did: PostgreSQL on 127.0.0.1:5432 (started with pg_ctlcluster when installed but stopped),
# Redis on 127.0.0.1:6379 (started, or installed with apt-get when absent), and the
# `cratedigger` database. Idempotent: a second run only reports "ok". When something cannot
# be fixed from here it prints exactly what is missing and exits non-zero.
set -euo pipefail

# The local defaults every cratedigger setting assumes; overridable for testing this script.
PG_HOST=127.0.0.1
PG_PORT=${ENSURE_PG_PORT:-5432}
PG_USER=postgres
REDIS_HOST=127.0.0.1
REDIS_PORT=${ENSURE_REDIS_PORT:-6379}
DATABASE=${ENSURE_DATABASE:-cratedigger}

say() { echo "ensure-services: $*"; }
fail() {
    echo "ensure-services: MISSING: $*" >&2
    exit 1
}

# Root runs commands directly; otherwise through sudo when it is there.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        return 1
    fi
}

# ---- PostgreSQL -------------------------------------------------------------------------
pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1; }

command -v pg_isready >/dev/null 2>&1 && command -v psql >/dev/null 2>&1 ||
    fail "the PostgreSQL client tools (pg_isready, psql). Install them with: sudo apt-get install -y postgresql postgresql-client"

if pg_up; then
    say "postgres: ok (accepting connections on $PG_HOST:$PG_PORT)"
else
    version=""
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        version=$(ls /etc/postgresql | sort -V | tail -n 1)
    fi
    [ -n "$version" ] ||
        fail "a PostgreSQL server on $PG_HOST:$PG_PORT: none is running and no cluster is installed (no /etc/postgresql/<version>). Install one with: sudo apt-get install -y postgresql, or point CRATEDIGGER__DATABASE__URL at a running server."
    say "postgres: not reachable on $PG_HOST:$PG_PORT; starting cluster $version/main"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
        fail "could not start PostgreSQL cluster $version/main (run as root or with sudo: pg_ctlcluster --skip-systemctl-redirect $version main start)"
    for _ in $(seq 1 60); do
        pg_up && break
        sleep 0.5
    done
    pg_up || fail "PostgreSQL cluster $version/main started but is not accepting connections on $PG_HOST:$PG_PORT after 30 s (see /var/log/postgresql/)"
    say "postgres: started (cluster $version/main, accepting connections on $PG_HOST:$PG_PORT)"
fi

# ---- Redis ------------------------------------------------------------------------------
redis_up() {
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
    else
        # No client: speak the protocol through bash.
        local reply=""
        {
            exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT" &&
                printf 'PING\r\n' >&3 &&
                IFS= read -r -t 2 reply <&3
            exec 3>&- 3<&-
        } 2>/dev/null || true
        [ "${reply%$'\r'}" = "+PONG" ]
    fi
}

if redis_up; then
    say "redis: ok (PONG from $REDIS_HOST:$REDIS_PORT)"
else
    if ! command -v redis-server >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 ||
            fail "redis-server (and no apt-get to install it). Install Redis >= 6.2 and start it on $REDIS_HOST:$REDIS_PORT."
        say "redis: redis-server is not installed; installing it with apt-get"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
            fail "redis-server: 'apt-get update' failed (run as root or with sudo: apt-get install -y redis-server)"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server ||
            fail "redis-server: 'apt-get install redis-server' failed (run as root or with sudo)"
        say "redis: installed $(redis-server --version | cut -d' ' -f3)"
    fi
    if ! redis_up; then
        say "redis: not answering on $REDIS_HOST:$REDIS_PORT; starting redis-server (no persistence)"
        redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no >/dev/null
        for _ in $(seq 1 50); do
            redis_up && break
            sleep 0.2
        done
        redis_up || fail "redis-server was started but does not answer PING on $REDIS_HOST:$REDIS_PORT after 10 s"
        say "redis: started on $REDIS_HOST:$REDIS_PORT"
    else
        say "redis: ok (PONG from $REDIS_HOST:$REDIS_PORT after installation)"
    fi
fi

# ---- database ---------------------------------------------------------------------------
psql_q() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -tAq "$@"; }

if ! exists=$(psql_q -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'" 2>&1); then
    fail "access to PostgreSQL as '$PG_USER' on $PG_HOST:$PG_PORT without a password ($exists). Allow it in pg_hba.conf (host all all 127.0.0.1/32 trust) or set PGPASSWORD."
fi
if [ "$exists" = "1" ]; then
    say "database '$DATABASE': ok (exists)"
else
    psql_q -c "CREATE DATABASE $DATABASE" >/dev/null
    say "database '$DATABASE': created"
fi
