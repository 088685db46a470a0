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

# The web app's checks need its npm packages and, for the end-to-end run, Debian's Chromium
# (never a browser download: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD, and no `playwright install`).
ensure_web_packages() {
    command -v npm >/dev/null || die "npm is missing: install Node.js 20.19 or newer with npm."
    if [[ ! -f web/node_modules/.package-lock.json || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
        say "web: npm ci"
        (cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    fi
}

ensure_chromium() {
    [[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]] && return
    say "Installing Debian's Chromium for the end-to-end run"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null \
        || die "Chromium is missing: apt-get install chromium (or set CHROMIUM_PATH)."
}

ensure_postgres
ensure_redis
ensure_web_packages

say "ruff: lint and format"
ruff check .
ruff format --check .
say "import-linter: dependency directions"
lint-imports
say "OpenAPI schema validates"
python manage.py spectacular --validate --fail-on-warn --file /dev/null
say "web: eslint (with feature import boundaries) and tsc --noEmit (strict)"
(cd web && npm run --silent lint && npm run --silent typecheck)

[[ "${1:-}" == "--lint-only" ]] && exit 0

say "pytest against PostgreSQL and Redis (a throwaway test database is created and dropped)"
status=0
pytest --create-db "${@}" || status=$?
if [[ $status -eq 5 ]]; then
    die "pytest collected no tests"
fi

say "web: vitest (components, API client, live socket)"
(cd web && npm test) || status=1

ensure_chromium
say "web: end to end in Chromium against the real stack (its own database and Redis db)"
(cd web && npm run --silent build >/dev/null && npm run e2e) || status=1
exit $status
