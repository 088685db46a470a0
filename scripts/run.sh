#!/usr/bin/env bash
# `make run`: the whole stack on http://$HOST:$PORT/ (API, WebSockets on $WS_PORT, Celery
# worker, Celery beat); HOST defaults to 127.0.0.1.
# Embedded default: SQLite in WAL mode and a private redis-server, both under the run folder.
# DATABASE_URL and REDIS_URL switch to real servers.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PWD/.venv/bin:$PATH"
export PORT="${PORT:-8000}"
# The address web and ws listen on (the Procfile reads it). Another address than loopback is
# also a host the app answers to, unless ALLOWED_HOSTS says otherwise.
export HOST="${HOST:-127.0.0.1}"
case "$HOST" in
    127.0.0.1|localhost|0.0.0.0|::) ;;
    *) export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost,[::1],$HOST}" ;;
esac
# Where this script itself reaches the servers: a wildcard address listens on loopback too.
case "$HOST" in
    0.0.0.0|::) LOCAL_HOST=127.0.0.1 ;;
    *) LOCAL_HOST="$HOST" ;;
esac
# WebSockets are served by the ASGI server on the next port; the ticket endpoint tells
# clients where (see README, "Realtime").
export WS_PORT="${WS_PORT:-$((PORT + 1))}"
# honcho hands each process a PORT of its own; the ws process learns the pages' port here.
export HTTP_PORT="$PORT"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-api.config.settings.local}"
export VAULTPAY_RUN_DIR="${VAULTPAY_RUN_DIR:-$PWD/.run}"
mkdir -p "$VAULTPAY_RUN_DIR"

# shellcheck source=scripts/services.sh
source scripts/services.sh

port_in_use() { python - "$LOCAL_HOST" "$1" <<'PY'
import socket, sys
with socket.socket() as s:
    sys.exit(0 if s.connect_ex((sys.argv[1], int(sys.argv[2]))) == 0 else 1)
PY
}

free_port() { python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

for port in "$PORT" "$WS_PORT"; do
    if port_in_use "$port"; then
        die "port $port is already in use (is another 'make run' still running?). Stop it, or choose other ports: PORT=8010 make run (WebSockets then use PORT + 1, or WS_PORT)"
    fi
done

# A private redis-server for this run, stopped again when the run ends. One left behind by a
# run that was killed is reused rather than duplicated.
REDIS_DIR="$VAULTPAY_RUN_DIR/redis"
start_local_redis() {
    command -v redis-server >/dev/null || die "redis-server is not installed. Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to a running Redis."
    mkdir -p "$REDIS_DIR"
    if [[ -f "$REDIS_DIR/port" ]] && redis-cli -p "$(cat "$REDIS_DIR/port")" ping >/dev/null 2>&1; then
        REDIS_PORT="$(cat "$REDIS_DIR/port")"
        say "Reusing the local Redis on port $REDIS_PORT"
    else
        REDIS_PORT="$(free_port)"
        say "Starting a local Redis on port $REDIS_PORT (files in $REDIS_DIR)"
        redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
            --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log"
        echo "$REDIS_PORT" > "$REDIS_DIR/port"
        for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
        redis-cli -p "$REDIS_PORT" ping >/dev/null || die "the local Redis did not start; see $REDIS_DIR/redis.log"
    fi
    trap 'redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; rm -f "$REDIS_DIR/port"' EXIT
    export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
}

if [[ -z "${REDIS_URL:-}" ]]; then
    start_local_redis
else
    say "Using Redis at REDIS_URL"
fi

if [[ -z "${DATABASE_URL:-}" ]]; then
    say "Using the embedded SQLite database in $VAULTPAY_RUN_DIR (demo mode: one worker process)"
    export WORKER_CONCURRENCY=1
else
    say "Using the database at DATABASE_URL"
fi

say "Applying database migrations"
python manage.py migrate --noinput

say "Loading demo data (only into an empty database)"
python manage.py seed_demo --if-empty

if [[ -f web/package.json ]]; then
    ensure_web_build
fi

say "Collecting static files"
python manage.py collectstatic --noinput -v0

print_banner_when_up() {
    # Printed once the API answers, so it is the last thing on screen rather than lost
    # above the processes' start-up logs.
    local logins
    logins="$(python manage.py seed_demo --print-logins)"
    python - "$LOCAL_HOST" "$PORT" <<'PY' || return 0
import sys, time, urllib.request
for _ in range(120):
    try:
        urllib.request.urlopen(f"http://{sys.argv[1]}:{sys.argv[2]}/healthz", timeout=1)
        sys.exit(0)
    except OSError:
        time.sleep(0.5)
sys.exit(1)
PY
    cat <<BANNER

  VaultPay is running on http://$LOCAL_HOST:$PORT/
    API docs:  http://$LOCAL_HOST:$PORT/api/docs/
    Health:    http://$LOCAL_HOST:$PORT/healthz   and   /readyz
    Admin:     http://$LOCAL_HOST:$PORT/admin/
    Sockets:   ws://$LOCAL_HOST:$WS_PORT/ws/notifications/ (POST /api/realtime/ticket/ first)
$logins

  Try it:
    curl -s -X POST http://$LOCAL_HOST:$PORT/api/users/login/ \\
         -H 'Content-Type: application/json' \\
         -d '{"email": "demo01@vaultpay.test", "password": "<demo password above>"}'

  Watch a user's transfers live (another terminal):
    .venv/bin/python -m loadtests.ws_watch --url http://$LOCAL_HOST:$PORT --email demo01@vaultpay.test

  Press Ctrl-C to stop everything.

BANNER
}

print_banner_when_up &
say "Starting web, ws, worker and beat"
# honcho runs in the background so that a SIGTERM or SIGHUP to this script (not only Ctrl-C,
# which reaches every process in the terminal's group) is passed on: honcho then stops each
# process with SIGTERM (SIGKILL after 5 s) instead of being orphaned with all of them. The
# socket server stops within 10 s on its own (see docs/socket-protocol.md).
honcho start --env /dev/null web ws worker beat &
honcho_pid=$!
trap 'kill -TERM "$honcho_pid" 2>/dev/null || true' INT TERM HUP
status=0
wait "$honcho_pid" || status=$?
# A trapped signal ends the first wait early; this one waits for honcho to finish stopping.
if kill -0 "$honcho_pid" 2>/dev/null; then
    wait "$honcho_pid" || status=$?
fi
exit "$status"
