#!/usr/bin/env bash
# `make loadtest`: start PostgreSQL and Redis if they are down, then `python -m loadtests.run`
# (the stack, provisioning, the open-loop load, the ledger audit and the report). Arguments
# go to it.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PWD/.venv/bin:$PATH"
export VAULTPAY_RUN_DIR="${VAULTPAY_RUN_DIR:-$PWD/.run}"
# shellcheck source=scripts/services.sh
source scripts/services.sh

if [[ " $* " != *" --url "* ]]; then
    # The run starts its own stack on the local servers, whatever DATABASE_URL names.
    DATABASE_URL="" ensure_postgres
    REDIS_URL="" ensure_redis
fi
exec python -m loadtests.run "$@"
