# Sourced by scripts/run.sh, scripts/test.sh and scripts/loadtest.sh: start PostgreSQL and
# Redis on their usual local ports when they are down (each step is skipped when
# DATABASE_URL / REDIS_URL name servers elsewhere), install the web app's npm packages
# when package-lock.json changed since the last install, and build the web app when its
# sources changed since the last build.

# Each step with the seconds since the script started, so a slow phase shows.
say() { printf '\033[1m==> %s\033[0m \033[2m(%d s)\033[0m\n' "$*" "$SECONDS"; }
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

# Never a browser download: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD, and no `playwright install`.
ensure_web_packages() {
    command -v npm >/dev/null || die "npm is missing: install Node.js 20.19 or newer with npm."
    if [[ ! -f web/node_modules/.package-lock.json || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
        say "web: npm ci"
        (cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    fi
}

# What the build reads; web/dist/index.html is written by every build.
WEB_SOURCES=(web/src web/public web/index.html web/package.json web/package-lock.json
    web/vite.config.ts web/tsconfig.json)

ensure_web_build() {
    ensure_web_packages
    if [[ -f web/dist/index.html && -z "$(find "${WEB_SOURCES[@]}" -newer web/dist/index.html -print -quit)" ]]; then
        return
    fi
    say "web: build (type check, then vite)"
    local output
    output="$(cd web && npm run --silent build 2>&1)" || { echo "$output"; die "the web app does not build (see above)"; }
}
