#!/usr/bin/env bash
# `make test`: start PostgreSQL and Redis if they are down, lint, then run the whole suite
# against them. `--lint-only` stops after the static checks.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PWD/.venv/bin:$PATH"
export DJANGO_SETTINGS_MODULE=api.config.settings.test
export VAULTPAY_RUN_DIR="${VAULTPAY_RUN_DIR:-$PWD/.run}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mError: %s\033[0m\n' "$*" >&2; exit 1; }

wait_for() {  # wait_for <what> <command...>
    local what="$1"; shift
    for _ in $(seq 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
    die "$what did not come up"
}

ensure_postgres() {
    [[ -n "${DATABASE_URL:-}" ]] && { say "Using the PostgreSQL at DATABASE_URL"; return; }
    if pg_isready -q -h 127.0.0.1 -p 5432; then
        say "PostgreSQL is running on 127.0.0.1:5432"
        return
    fi
    command -v pg_ctlcluster >/dev/null || die "PostgreSQL is not running on 127.0.0.1:5432 and pg_ctlcluster is missing: install PostgreSQL 15 (apt-get install postgresql) or set DATABASE_URL."
    say "Starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
}

ensure_redis() {
    [[ -n "${REDIS_URL:-}" ]] && { say "Using the Redis at REDIS_URL"; return; }
    if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        say "Redis is running on 127.0.0.1:6379"
        return
    fi
    command -v redis-server >/dev/null || die "Redis is not running on 127.0.0.1:6379 and redis-server is missing: install it (apt-get install redis-server) or set REDIS_URL."
    say "Starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
}

ensure_postgres
ensure_redis

say "ruff: lint and format"
ruff check .
ruff format --check .
say "import-linter: dependency directions"
lint-imports
say "OpenAPI schema validates"
python manage.py spectacular --validate --fail-on-warn --file /dev/null

[[ "${1:-}" == "--lint-only" ]] && exit 0

say "pytest against PostgreSQL and Redis (a throwaway test database is created and dropped)"
status=0
pytest --create-db "${@}" || status=$?
if [[ $status -eq 5 ]]; then
    die "pytest collected no tests"
fi
exit $status
