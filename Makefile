# The two commands: `make run` (the whole stack on http://127.0.0.1:$PORT/) and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install lint clean bench-pipeline bench-realtime loadtest chaos multihost restore-drill \
	rolling-restart

run: install  ## Set up what is missing and run API, worker and beat (Ctrl-C stops all)
	@scripts/run.sh

test: install  ## Start PostgreSQL and Redis if down, then lint and run the whole suite
	@scripts/test.sh

lint: install  ## ruff, import contracts and OpenAPI checks only
	@scripts/test.sh --lint-only

bench-pipeline: install  ## Benchmark the transfer pipeline (~6 min); writes loadtests/results/pipeline.md
	@$(VENV)/bin/python -m loadtests.bench_pipeline $(BENCH_ARGS)

bench-realtime: install  ## Benchmark realtime delivery (~5 min); writes loadtests/results/realtime.md
	@$(VENV)/bin/python -m loadtests.bench_realtime $(BENCH_ARGS)

# make loadtest SCENARIO=uniform RATE=50 DURATION=30 [USERS=1000 SOCKETS=5 NAME=...
#   LOADTEST_PORT=8300 LOADTEST_URL=http://... LOADTEST_ARGS="..."]: starts PostgreSQL and
#   Redis if down, then the stack; provisions, runs the open-loop load, audits
#   (loadtests/README.md). SCENARIO may be a mix: uniform=6,replay=2,bad-input=1.
SCENARIO ?= uniform
RATE ?= 50
DURATION ?= 30
loadtest: install  ## One load scenario end to end; writes loadtests/results/<scenario>.md
	@scripts/loadtest.sh --scenario "$(SCENARIO)" --rate "$(RATE)" --duration "$(DURATION)" \
		$(if $(USERS),--users "$(USERS)") $(if $(SOCKETS),--sockets "$(SOCKETS)") \
		$(if $(NAME),--name "$(NAME)") $(if $(LOADTEST_PORT),--port "$(LOADTEST_PORT)") \
		$(if $(LOADTEST_URL),--url "$(LOADTEST_URL)") $(LOADTEST_ARGS)

# make chaos [SEED=n] [SHORT=1] [CHAOS_ARGS="..."]: its own PostgreSQL cluster and Redis on
#   free ports, the stack on them, an open-loop load with sockets, one fault at a time on a
#   seeded schedule (SEED=n replays it), then the history checker (loadtests/README.md).
chaos: install  ## Faults under load, then the history checker (~9 min; SHORT=1 ~90 s); writes loadtests/results/chaos.md
	@$(VENV)/bin/python -m loadtests.chaos $(if $(SEED),--seed "$(SEED)") $(if $(SHORT),--short) \
		$(CHAOS_ARGS)

# make multihost [MULTIHOST_ARGS="--rate 60 --duration 120 ..."]: root only. Network namespaces
#   on a private subnet as hosts (data: PostgreSQL and Redis; app: web and ws; two worker
#   hosts), 2 minutes of load from this one, each worker host's share of the settlements,
#   then removes all it made (loadtests/README.md).
multihost: install  ## Workers and socket servers on other hosts, under load (~4 min, root); writes loadtests/results/multihost.md
	@$(VENV)/bin/python -m loadtests.multihost $(MULTIHOST_ARGS)

# make rolling-restart [ROLLING_ARGS="--rate 40 --duration 90 ..."]: database vaultpay_rolling
#   (dropped and recreated), Redis db 6 (flushed); loadtests/README.md.
rolling-restart: install  ## Restart web, ws, each worker and beat in turn under load (~3 min); writes loadtests/results/rolling-restart.md
	@$(VENV)/bin/python -m loadtests.rolling $(ROLLING_ARGS)

# make restore-drill [RESTORE_DRILL_ARGS="--keep"]: the database at DATABASE_URL.
restore-drill: install  ## pg_dump the database, restore it into a new one, check its rows and ledger_audit there, drop it
	@$(VENV)/bin/python manage.py restore_drill $(RESTORE_DRILL_ARGS)

install: $(STAMP)

# Reinstalled whenever pyproject.toml changes; pip's notes about this machine's optional
# local package mirrors are noise, so they are filtered out.
$(STAMP): pyproject.toml
	@echo "==> Installing Python dependencies into $(VENV)"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --upgrade pip 2>&1 | { grep -v 'is ignored' || true; }
	@$(VENV)/bin/pip install --quiet -e '.[dev]' 2>&1 | { grep -vE 'is ignored|editable|!!|\*\*\*|Please be careful|name as your package|with strategy|^ *$$' || true; }
	@touch $(STAMP)

clean:  ## Remove the virtualenv and everything a local run created
	rm -rf $(VENV) .run
