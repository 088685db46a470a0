#!/usr/bin/env bash
# `make test`: start PostgreSQL and Redis if they are down, lint, then run the whole suite
# against them. `--lint-only` stops after the static checks.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PWD/.venv/bin:$PATH"
export DJANGO_SETTINGS_MODULE=api.config.settings.test
export VAULTPAY_RUN_DIR="${VAULTPAY_RUN_DIR:-$PWD/.run}"

# shellcheck source=scripts/services.sh
source scripts/services.sh

# The end-to-end run needs Debian's Chromium (never a browser download).
ensure_chromium() {
    [[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]] && return
    say "Installing Debian's Chromium for the end-to-end run"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null \
        || die "Chromium is missing: apt-get install chromium (or set CHROMIUM_PATH)."
}

# The web app's production dependencies against the npm advisory database: a high or
# critical advisory fails the lint. When the advisory service cannot be asked (offline, or a
# proxy that refuses its POST), that is said in red and the lint goes on: the check did not
# run, which is not the same as passing it.
audit_web_dependencies() {
    local report
    report="$(cd web && npm audit --omit=dev --audit-level=high --json 2>/dev/null)" || true
    python - "$report" <<'PY'
import json, sys

try:
    report = json.loads(sys.argv[1])
except ValueError:
    report = {"message": "npm audit printed no JSON"}
counts = report.get("metadata", {}).get("vulnerabilities")
if counts is None:
    why = report.get("message") or report.get("error", {}).get("summary") or "no report"
    print(f"\033[31mnpm audit did not run: {why}; production dependencies NOT audited\033[0m")
    sys.exit(0)
serious = {level: counts.get(level, 0) for level in ("high", "critical")}
print(f"npm audit (production dependencies): {counts}")
sys.exit(1 if any(serious.values()) else 0)
PY
}

# The proxy test runs Debian's nginx, unprivileged, in front of a real stack.
ensure_nginx() {
    if command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]]; then
        return
    fi
    say "Installing Debian's nginx for the proxy test"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq nginx >/dev/null \
        || die "nginx is missing: apt-get install nginx."
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
say "docker-compose.yml validates against the Compose specification's schema"
check-jsonschema --schemafile deploy/compose-spec.json docker-compose.yml
say "web: eslint (with feature import boundaries) and tsc --noEmit (strict)"
(cd web && npm run --silent lint && npm run --silent typecheck)
say "web: npm audit of the production dependencies (high and critical fail)"
audit_web_dependencies || { (cd web && npm audit --omit=dev --audit-level=high) || true; die "npm audit found high or critical advisories in the web app's production dependencies"; }

[[ "${1:-}" == "--lint-only" ]] && exit 0

# The load smoke: 30 s of uniform payments at a modest rate on a stack of its own (database
# LOADTEST_DATABASE, default vaultpay_load; Redis db LOADTEST_REDIS_DB, default 5), the
# WebSocket user included, then the ledger audit; any 5xx or a failed audit fails the suite.
# It runs before pytest so that pytest's summary stays the last line. LOADTEST_SMOKE=0 skips it.
smoke=0
if [[ "${LOADTEST_SMOKE:-1}" != 0 ]]; then
    say "Load smoke: 30 s of uniform payments and socket users, then ledger_audit"
    smoke_log="$VAULTPAY_RUN_DIR/loadtest-smoke.log"
    python -m loadtests.run --scenario uniform --rate "${LOADTEST_SMOKE_RATE:-20}" --duration 30 \
        --users 200 --sockets 3 --name smoke --results "$VAULTPAY_RUN_DIR/loadtest-smoke/results" \
        --database "${LOADTEST_DATABASE:-vaultpay_load}" --redis-db "${LOADTEST_REDIS_DB:-5}" \
        --port "${LOADTEST_PORT:-0}" > "$smoke_log" 2>&1 || smoke=$?
    sed -n '/^## Figures against targets/,/^## Phases/p' \
        "$VAULTPAY_RUN_DIR/loadtest-smoke/results/smoke.md" 2>/dev/null | grep '^|' || true
    if [[ $smoke -ne 0 ]]; then
        tail -60 "$smoke_log"
        printf '\033[31mThe load smoke failed (log: %s)\033[0m\n' "$smoke_log" >&2
    fi
fi

# The fault smoke: under load on private PostgreSQL and Redis, a Celery worker SIGKILLed,
# Redis stopped for 10 s and the socket server SIGKILLed, then the history checker and the
# ledger audit (loadtests/README.md, "make chaos"); about 90 s. A failed verdict or a fault not
# recovered fails the suite. CHAOS_SEED replays a schedule; CHAOS_SMOKE=0 skips it.
chaos=0
if [[ "${CHAOS_SMOKE:-1}" != 0 ]]; then
    say "Fault smoke: worker SIGKILL, Redis stopped, socket server SIGKILL under load; history checker"
    chaos_log="$VAULTPAY_RUN_DIR/chaos-short.log"
    chaos_report="$VAULTPAY_RUN_DIR/chaos-short/chaos-short.md"
    python -m loadtests.chaos --short --results "$chaos_report" \
        ${CHAOS_SEED:+--seed "$CHAOS_SEED"} > "$chaos_log" 2>&1 || chaos=$?
    grep -m1 '^==> .*Seed' "$chaos_log" || true
    sed -n '/^## Figures against targets/,/^## Phases/p' "$chaos_report" 2>/dev/null \
        | grep '^|' || true
    if [[ $chaos -ne 0 ]]; then
        if [[ -f "$chaos_report" ]]; then
            sed -n '/^## Phases/,$p' "$chaos_report"
            grep '^FAILED' "$chaos_log" || true
        else
            tail -40 "$chaos_log"
        fi
        printf '\033[31mThe fault smoke failed (log: %s)\033[0m\n' "$chaos_log" >&2
    fi
fi

# The API against its own OpenAPI schema: Schemathesis (every phase, every check, the stateful
# phase along the schema's links, a fixed seed) on a stack of its own (database
# CONFORMANCE_DATABASE, default vaultpay_conformance; Redis db CONFORMANCE_REDIS_DB, default 8),
# then the ledger audit (docs/api.md). CONFORMANCE=0 skips it.
conformance=0
if [[ "${CONFORMANCE:-1}" != 0 ]]; then
    say "API conformance: Schemathesis against /api/schema/ on a live stack, then ledger_audit"
    conformance_log="$VAULTPAY_RUN_DIR/conformance.log"
    python -m loadtests.conformance --results "$VAULTPAY_RUN_DIR/conformance" \
        --database "${CONFORMANCE_DATABASE:-vaultpay_conformance}" \
        --redis-db "${CONFORMANCE_REDIS_DB:-8}" > "$conformance_log" 2>&1 || conformance=$?
    grep -E '^(Test cases:|  [0-9]+ generated|Seed:|=+ .* in [0-9.]+s =+$|ledger )' \
        "$conformance_log" || true
    if [[ $conformance -ne 0 ]]; then
        tail -120 "$conformance_log"
        printf '\033[31mThe API conformance run failed (log: %s)\033[0m\n' "$conformance_log" >&2
    fi
fi

# Built before pytest: the proxy test serves it through nginx, and the end-to-end run after.
ensure_web_build
ensure_nginx

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
(cd web && npm run e2e) || status=1
[[ $smoke -ne 0 ]] && die "the load smoke failed (see above)"
[[ $chaos -ne 0 ]] && die "the fault smoke failed (see above)"
[[ $conformance -ne 0 ]] && die "the API conformance run failed (see above)"
exit $status
