#!/usr/bin/env bash
# `just demo`: the whole fleet (`cratedigger up`) syncs samples/demo-playlist.m3u against the
# local fixture server (recorded MusicBrainz and Deezer payloads from ../shared/fixtures),
# on a fresh `cratedigger_demo` database and a queue prefix of its own, then prints what it
# resolved. Both background processes are stopped on exit; their logs are in .demo/.
# Expects PostgreSQL and Redis up (`just setup`, i.e. deploy/scripts/ensure-services.sh).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
LOGS="$ROOT/.demo"
PLAYLIST=${1:-samples/demo-playlist.m3u}
PG="postgres://postgres@127.0.0.1:5432"
DEMO_DB=cratedigger_demo

say() { echo "demo: $*"; }

for bin in target/debug/fixture-server target/debug/cratedigger; do
    [ -x "$bin" ] || {
        echo "demo: $bin is missing; build it first: cargo build --workspace --bins" >&2
        exit 1
    }
done
mkdir -p "$LOGS"

FIXTURE_PID=""
FLEET_PID=""
stop() {
    local rc=$?
    for pid in $FLEET_PID $FIXTURE_PID; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    for pid in $FLEET_PID $FIXTURE_PID; do
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    [ -n "$FLEET_PID$FIXTURE_PID" ] && say "stopped the fleet and the fixture server (logs in .demo/)"
    exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT TERM

# The log tail of a process that died, then fail.
died() {
    echo "demo: $1 exited early; last lines of .demo/$2:" >&2
    tail -n 30 "$LOGS/$2" >&2 || true
    exit 1
}

# HTTP status of GET http://127.0.0.1:$1$2 through bash alone (no curl needed).
http_status() {
    local status=""
    {
        exec 3<>"/dev/tcp/127.0.0.1/$1" &&
            printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3 &&
            IFS=' ' read -r -t 2 _ status _ <&3
        exec 3>&- 3<&-
    } 2>/dev/null || true
    echo "${status:-000}"
}

# A TCP port nothing listens on, 20000-60999.
free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 41000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "demo: no free TCP port found on 127.0.0.1" >&2
    return 1
}

say "fresh database $DEMO_DB"
PGOPTIONS="-c client_min_messages=warning" psql "$PG/postgres" -v ON_ERROR_STOP=1 -q -c "DROP DATABASE IF EXISTS $DEMO_DB WITH (FORCE)" >/dev/null
psql "$PG/postgres" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE $DEMO_DB" >/dev/null

say "starting the fixture server (log: .demo/fixture-server.log)"
target/debug/fixture-server --addr 127.0.0.1:0 >"$LOGS/fixture-server.log" 2>&1 &
FIXTURE_PID=$!
FIXTURE_URL=""
for _ in $(seq 1 100); do
    FIXTURE_URL=$(head -n 1 "$LOGS/fixture-server.log" | sed -n 's/^listening on \(http:\/\/[0-9.:]*\).*$/\1/p')
    [ -n "$FIXTURE_URL" ] && break
    kill -0 "$FIXTURE_PID" 2>/dev/null || died "the fixture server" fixture-server.log
    sleep 0.1
done
[ -n "$FIXTURE_URL" ] || died "the fixture server (no 'listening on' line in 10 s)" fixture-server.log
say "fixture server at $FIXTURE_URL"

API_PORT=$(free_port)
export CRATEDIGGER__DATABASE__URL="$PG/$DEMO_DB"
export CRATEDIGGER__QUEUE__PREFIX="demo-$(date +%s)-$RANDOM"
export CRATEDIGGER__API__BIND="127.0.0.1:$API_PORT"
export CRATEDIGGER__API__URL="http://127.0.0.1:$API_PORT"
export CRATEDIGGER__PLATFORMS__MUSICBRAINZ__BASE_URL="$FIXTURE_URL"
export CRATEDIGGER__PLATFORMS__DEEZER__BASE_URL="$FIXTURE_URL"

say "starting the fleet: cratedigger up on $CRATEDIGGER__API__URL, queue prefix $CRATEDIGGER__QUEUE__PREFIX (log: .demo/cratedigger.log)"
target/debug/cratedigger up >"$LOGS/cratedigger.log" 2>&1 &
FLEET_PID=$!
ready=""
for _ in $(seq 1 600); do
    if [ "$(http_status "$API_PORT" /readyz)" = "200" ]; then
        ready=yes
        break
    fi
    kill -0 "$FLEET_PID" 2>/dev/null || died "cratedigger up" cratedigger.log
    sleep 0.1
done
[ -n "$ready" ] || died "cratedigger up (not ready within 60 s: GET /readyz)" cratedigger.log
say "fleet ready; syncing $PLAYLIST"
echo
target/debug/cratedigger sync "$PLAYLIST" --wait
