#!/usr/bin/env bash
# The real VaultPay stack for the end-to-end run, on a database of its own:
#   granian (REST and the built web app) on E2E_PORT, uvicorn (WebSockets) on E2E_PORT+1,
#   one Celery worker and Celery beat. Started by Playwright (webServer), stopped with SIGTERM.
# Needs: PostgreSQL and Redis running, the Python venv, and a built web app (web/dist).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"

export PATH="$ROOT/.venv/bin:$PATH"
export PORT="${E2E_PORT:-8210}"
export WS_PORT="$((PORT + 1))"
export DJANGO_SETTINGS_MODULE=api.config.settings.local
# Its own database (dropped and created each run): DATABASE_URL's name + "_e2e". Redis: the
# database REDIS_URL names (flushed at start; pytest has finished with it by then), or number 5
# when REDIS_URL is unset. Its Celery queue must not be shared with another stack's workers.
base_db="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/vaultpay}"
export DATABASE_URL="${E2E_DATABASE_URL:-${base_db%%\?*}_e2e}"
export REDIS_URL="${E2E_REDIS_URL:-${REDIS_URL:-redis://127.0.0.1:6379/5}}"
export VAULTPAY_RUN_DIR="$ROOT/web/.e2e/run"
export CONN_MAX_AGE=0
export DEMO_MODE=1
# The end-to-end run logs in and registers many times from one address.
export THROTTLE_LOGIN=1000/min THROTTLE_REGISTER=1000/min THROTTLE_REVEAL=100/min
LOGS="$ROOT/web/.e2e/logs"
mkdir -p "$VAULTPAY_RUN_DIR" "$LOGS"

[[ -f web/dist/index.html ]] || { echo "web/dist is missing: run 'npm run build' in web/ first" >&2; exit 1; }
for p in "$PORT" "$WS_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        echo "port $p is in use: set E2E_PORT to another port" >&2; exit 1
    fi
done

pids=()
stop() {
    trap - TERM INT EXIT
    rm -f "$ROOT/web/.e2e/worker.pid"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait || true
}
trap stop TERM INT EXIT

echo "e2e: fresh database ${DATABASE_URL##*/}, Redis database ${REDIS_URL##*/}"
python - "$DATABASE_URL" <<'PY'
import sys
from urllib.parse import urlparse
import psycopg2
url = urlparse(sys.argv[1])
name = url.path.lstrip("/")
conn = psycopg2.connect(host=url.hostname, port=url.port or 5432, user=url.username or "postgres",
                        password=url.password, dbname="postgres")
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    cur.execute(f'CREATE DATABASE "{name}"')
PY
redis-cli -u "$REDIS_URL" flushdb >/dev/null
python manage.py migrate --noinput -v0
python manage.py collectstatic --noinput -v0

# One process (solo pool), so a test can pause settlement with SIGSTOP and see PENDING for sure.
celery -A api.config.celery worker --loglevel INFO --pool solo >"$LOGS/worker.log" 2>&1 &
pids+=($!)
echo $! >"$ROOT/web/.e2e/worker.pid"
celery -A api.config.celery beat --loglevel INFO --schedule "$VAULTPAY_RUN_DIR/celerybeat-schedule" >"$LOGS/beat.log" 2>&1 &
pids+=($!)
python -m uvicorn api.config.asgi:application --host 127.0.0.1 --port "$WS_PORT" --lifespan off >"$LOGS/ws.log" 2>&1 &
pids+=($!)
# Demo users with 30 days of payments, for the screenshots.
python manage.py seed_demo --users 4 --transfers 60 >"$LOGS/seed.log" 2>&1
for _ in $(seq 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$WS_PORT") 2>/dev/null && break
    sleep 0.1
done
# Last, so that /readyz answering means everything is up.
granian api.config.wsgi:application --interface wsgi --host 127.0.0.1 --port "$PORT" --workers 2 \
    --blocking-threads 1 >"$LOGS/web.log" 2>&1 &
pids+=($!)
echo "e2e: http://127.0.0.1:$PORT/ (sockets on $WS_PORT), logs in web/.e2e/logs"
wait -n "${pids[@]}"
echo "e2e: a process of the stack exited; see web/.e2e/logs" >&2
exit 1
