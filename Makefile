# The two commands: `make run` (the whole stack on http://127.0.0.1:$PORT/) and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# PYTHON=/path/to/python3.11 picks the interpreter; by default scripts/python311.sh finds one.
export PYTHON
VENV := .venv
STAMP := $(VENV)/.installed-stamp
# uv (from PyPI, pinned) installs the locked dependencies; it lives in a small venv of its own
# so that syncing .venv, which removes whatever uv.lock does not list, cannot remove it.
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_STAMP := $(TOOLS)/.uv-$(UV_VERSION)
# Only the machine's Python 3.11: uv never downloads an interpreter of its own.
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test install lock lint clean bench-pipeline bench-realtime bench-capacity bench-openloop soak \
	loadtest chaos multihost restore-drill rolling-restart

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

# make bench-capacity [SERVERS=procfile,gunicorn-sync:3,gunicorn-gthread:3] [BENCH_ARGS="..."]:
#   wrk (installed with apt-get when missing) against the stack, workers settling meanwhile.
bench-capacity: install  ## Closed-loop capacity with wrk (~3 min per server); writes loadtests/results/capacity.md
	@command -v wrk >/dev/null || { echo "==> Installing wrk"; apt-get install -y wrk; }
	@$(VENV)/bin/python -m loadtests.bench_capacity $(if $(SERVERS),--servers "$(SERVERS)") $(BENCH_ARGS)

# make bench-openloop [RATE=800] [DURATION=600] [BENCH_ARGS="..."]: an open loop with a socket
#   open for every paying user, after a 50/s probe of POST -> socket.
bench-openloop: RATE = 800
bench-openloop: DURATION = 600
bench-openloop: install  ## Open loop at RATE/s for DURATION s with 1,000 sockets (~13 min); writes loadtests/results/openloop-<RATE>.md
	@$(VENV)/bin/python -m loadtests.bench_openloop --rate "$(RATE)" --duration "$(DURATION)" \
		$(BENCH_ARGS)

# make soak [RATE=700] [DURATION=3600]: the open loop for an hour, minute by minute.
soak: RATE = 700
soak: DURATION = 3600
soak: install  ## 60 minutes at RATE/s with every paying user's socket open; writes loadtests/results/soak-<minutes>min.md
	@$(VENV)/bin/python -m loadtests.bench_openloop --soak --probe-rate 0 --rate "$(RATE)" \
		--duration "$(DURATION)" $(BENCH_ARGS)

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

# .venv holds exactly what uv.lock lists (the dependencies, the dev extra and the project,
# editable), with their hashes checked; it is synced again whenever the lock or
# pyproject.toml changes. `--locked` refuses a lock that no longer matches pyproject.toml.
$(STAMP): pyproject.toml uv.lock $(UV_STAMP)
	@echo "==> Installing Python dependencies from uv.lock into $(VENV)"
	@python="$$(scripts/python311.sh)"; \
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --extra dev --python "$$python" --quiet \
		|| { echo "Error: see above; if uv.lock no longer matches pyproject.toml, run 'make lock'." >&2; exit 1; }
	@touch $(STAMP)

lock: $(UV_STAMP)  ## Refresh uv.lock from pyproject.toml (UPGRADE=1: every package to its newest allowed version)
	@$(UV) lock $(if $(UPGRADE),--upgrade)

# pip's notes about this machine's optional local package mirrors are noise: filtered out.
$(UV_STAMP):
	@echo "==> Installing uv $(UV_VERSION) into $(TOOLS)"
	@python="$$(scripts/python311.sh)"; rm -rf $(TOOLS) && "$$python" -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION) 2>&1 | { grep -v 'is ignored' || true; }
	@touch $@

clean:  ## Remove the virtualenvs and everything a local run created
	rm -rf $(VENV) $(TOOLS) .run
