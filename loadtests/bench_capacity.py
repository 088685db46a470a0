"""Closed-loop capacity (`make bench-capacity`): wrk (a load generator in C) at a fixed number
of connections against the REST API while the Celery worker settles at the same time; the
figure is what settled end to end, not what was accepted.

For each web server asked for (default: the Procfile's `web`), a stack of its own (stack.py:
web, ws, one Celery worker, beat; database dropped and recreated, Redis db flushed), then for
each workload:
  users      `manage.py loadtest_provision`: fresh users, funded and settled, new tokens (15
             minutes: every wrk run is far shorter)
  wrk        -t THREADS -c CONNECTIONS -d SECONDS with loadtests/wrk/transfers.lua: a new
             Idempotency-Key per request, the user's bearer token; answers counted by status
  settled    transfers of this workload settled (SUCCESS or FAILED) during wrk's window,
             read from the database; accept -> settled p50/p99; the backlog left
  CPU        CPU ms per settled transfer of every part (web, ws, worker, beat, PostgreSQL
             backends, Redis, the load generator), the stack's total without the generator,
             and what else ran on the machine
  drain      the rest settles (bounded) before the next workload starts
Workloads: `uniform` (a ring: user i pays user i+1, 1.00; or random pairs, `--pairs random`),
`hot-receiver` (everybody pays user 1), `opposite` (users 1 and 2 pay each other, 1.00; 0
errors), `replay` (one key sent again and again: every answer must be its replay). Then the
ledger audit of each stack. PostgreSQL's fsync and synchronous_commit are read with SHOW and
reported; the benchmark never changes them.

Run: .venv/bin/python -m loadtests.bench_capacity --help
"""

import argparse
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from loadtests.cpu import PARTS, CpuMeter, CpuUse
from loadtests.provision import provision_funded
from loadtests.report import Figure, Report, audit, machine
from loadtests.stack import ROOT, Stack, local_urls, procfile, time_limit

TARGETS = {"settled": 1_000, "replay": 4_000, "stack_cpu_ms": 1.6}
WORKLOADS = ("uniform", "hot-receiver", "opposite", "replay")
SCRIPT = ROOT / "loadtests" / "wrk" / "transfers.lua"
BALANCE = "100000.00"
# The web servers compared. Each reads HOST, PORT and WEB_CONCURRENCY as the Procfile does;
# `procfile` is the Procfile's own `web` line.
SERVERS = {
    "procfile": None,
    "granian": "granian api.config.wsgi:application --interface wsgi --host $HOST --port $PORT "
    "--workers $WEB_CONCURRENCY --blocking-threads 1 --respawn-failed-workers "
    "--workers-kill-timeout 5",
    # Several Python threads per process: they share its GIL.
    "granian-threads": "granian api.config.wsgi:application --interface wsgi --host $HOST "
    "--port $PORT --workers $WEB_CONCURRENCY --blocking-threads 4 --respawn-failed-workers "
    "--workers-kill-timeout 5",
    "gunicorn-sync": "gunicorn api.config.wsgi --bind $HOST:$PORT --workers $WEB_CONCURRENCY",
    "gunicorn-gthread": "gunicorn api.config.wsgi --bind $HOST:$PORT --workers $WEB_CONCURRENCY "
    "--worker-class gthread --threads 4",
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add(
        "--servers",
        default="procfile",
        help="web servers, NAME[:PROCESSES] comma-separated, of: " + ", ".join(SERVERS),
    )
    add("--web-processes", type=int, default=3, help="web processes unless NAME:N says (3)")
    add("--workloads", default=",".join(WORKLOADS), help="of: " + ", ".join(WORKLOADS))
    add("--seconds", type=int, default=30, help="wrk's duration per workload (30)")
    add("--warmup", type=int, default=5, help="seconds of wrk before the first workload (5)")
    add("--connections", type=int, default=16, help="wrk connections (16)")
    add("--threads", type=int, default=2, help="wrk threads (2)")
    add("--users", type=int, default=64, help="users per workload (64)")
    add("--pairs", choices=("ring", "random"), default="ring", help="uniform: ring or random")
    add("--worker-concurrency", type=int, default=2, help="Celery prefork children (2)")
    add("--drain-timeout", type=float, default=120, help="seconds for the rest to settle")
    add("--port", type=int, default=0, help="web port (default: a free one); ws uses port+1")
    add("--database", default="vaultpay_bench_capacity", help="dropped and recreated")
    add("--redis-db", type=int, default=3, help="Redis database number, flushed (3)")
    add("--time-limit", type=int, help="hard bound of the run (default: from the above)")
    add("--out", type=Path, default=ROOT / "loadtests/results/capacity.md")
    options = parser.parse_args(argv)
    options.workloads = options.workloads.split(",")
    options.servers = [server_spec(s, options.web_processes) for s in options.servers.split(",")]
    for name in options.workloads:
        if name not in WORKLOADS:
            parser.error(f"unknown workload {name!r}")
    per_server = 60 + options.warmup + len(options.workloads) * (options.seconds + 60)
    options.time_limit = options.time_limit or per_server * len(options.servers) + 120
    return options


def server_spec(text: str, default_processes: int) -> tuple[str, int]:
    name, _, processes = text.partition(":")
    if name not in SERVERS:
        raise SystemExit(f"unknown server {name!r}: one of {', '.join(SERVERS)}")
    return name, int(processes or default_processes)


@dataclass
class WrkResult:
    requests: int
    seconds: float
    expected: int  # 202s (a replay: 200s marked Idempotent-Replayed)
    unexpected: int
    socket_errors: int  # connect, read, write errors and timeouts
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    cpu: float = 0.0  # wrk's CPU seconds

    @classmethod
    def parse(cls, output: str) -> "WrkResult":
        line = next(x for x in output.splitlines() if x.startswith("WRK_RESULT "))
        data = json.loads(line.removeprefix("WRK_RESULT "))
        errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
        return cls(
            requests=data["requests"], seconds=data["duration_us"] / 1e6,
            expected=data["expected"], unexpected=data["unexpected"], socket_errors=errors,
            p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
            statuses=dict(sorted(data["statuses"].items())),
        )  # fmt: skip

    @property
    def errors(self) -> int:
        return self.unexpected + self.socket_errors

    def text(self) -> str:
        statuses = ", ".join(f"{s} x{n:,}" for s, n in self.statuses.items()) or "none"
        return (
            f"{self.requests:,} requests in {self.seconds:.1f}s = "
            f"{self.requests / self.seconds:,.0f}/s, p50 {self.p50_ms:.1f} ms, p99 "
            f"{self.p99_ms:.1f} ms; answers {statuses}; socket errors {self.socket_errors}"
        )


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (make bench-capacity does)")
    version = subprocess.run(  # noqa: S603 - the wrk found above
        [found, "--version"], capture_output=True, text=True, check=False
    )
    return version.stdout.split("\n", 1)[0].strip()


def _children_cpu() -> float:
    """CPU seconds of this process's ended and reaped children (wrk)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cost_text(use: CpuUse, settled: int) -> tuple[str, float]:
    """CPU ms per settled transfer of every part, and the stack's total (load generator
    excluded)."""
    if not settled:
        return "nothing settled", float("nan")
    per = {p: use.parts.get(p, 0.0) * 1000 / settled for p in PARTS}
    stack = sum(v for p, v in per.items() if p != "load generator")
    parts = ", ".join(f"{p} {v:.2f}" for p, v in per.items())
    return f"CPU ms per settled transfer: {parts}; stack {stack:.2f}", stack


class Section:
    """One web server: its stack, and each workload measured on it."""

    def __init__(self, options, report: Report, name: str, processes: int, index: int) -> None:
        self.options, self.report, self.name = options, report, f"{name} x{processes}"
        database_url, redis_url = local_urls(database=options.database, redis_db=options.redis_db)
        self.stack = Stack(
            database_url=database_url, redis_url=redis_url,
            run_dir=ROOT / ".run" / "bench-capacity", settings=SETTINGS,
            web_processes=processes, worker_concurrency=options.worker_concurrency,
            web_command=SERVERS[name], port=options.port,
            ws_port=options.port + 1 if options.port else 0,
        )  # fmt: skip
        self.meter = CpuMeter(self.stack)
        self.index = index

    def say(self, text: str) -> None:
        print(f"==> [{self.name}] {text}", flush=True)

    def users_file(self, tag: str) -> tuple[Path, list[dict]]:
        """Fresh users (tokens valid 15 minutes) and the wrk users file (mode 0600)."""
        prefix = f"c{self.index}{tag}{secrets.token_hex(2)}"
        users = provision_funded(
            self.stack, prefix=prefix, users=self.options.users, balance=BALANCE
        )["users"]
        path = self.stack.run_dir / "wrk-users.txt"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.writelines(f"{u['access']} {u['email']}\n" for u in users)
        return path, users

    def wrk(self, workload: str, seconds: int, users: Path, prefix: str, replay_key: str = ""):
        options = self.options
        env = {
            **os.environ, "WRK_USERS": str(users), "WRK_WORKLOAD": workload,
            "WRK_KEY_PREFIX": prefix, "WRK_REPLAY_KEY": replay_key,
        }  # fmt: skip
        command = [
            "wrk", f"-t{options.threads}", f"-c{options.connections}", f"-d{seconds}s",
            "--timeout", "10s", "-s", str(SCRIPT), self.stack.base_url,
        ]  # fmt: skip
        before = _children_cpu()
        done = subprocess.run(  # noqa: S603 - our wrk, our arguments
            command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
        if done.returncode != 0 or "WRK_RESULT " not in done.stdout:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
        result = WrkResult.parse(done.stdout)
        result.cpu = _children_cpu() - before
        return result

    def drain(self) -> float:
        started = time.monotonic()
        self.stack.ledger.wait_drained(timeout=self.options.drain_timeout, poll=0.2)
        return time.monotonic() - started

    def run(self) -> bool:
        options = self.options
        self.say(f"Resetting {self.stack.database} and {self.stack.redis_url}; starting the stack")
        self.stack.reset()
        self.stack.start()
        self.report.phase(f"{self.name}: stack", self.stack.describe())
        if options.warmup:
            users, _ = self.users_file("w")
            self.say(f"Warm-up: wrk {options.warmup}s, uniform")
            self.wrk("random", options.warmup, users, f"warm-{secrets.token_hex(3)}-")
            self.drain()
        for workload in options.workloads:
            self.workload(workload)
        self.stack.close()
        return audit(self.stack, self.report)

    def workload(self, workload: str) -> None:
        options = self.options
        users, wallets = self.users_file(workload[0])
        prefix = f"cap-{workload}-{secrets.token_hex(3)}-"
        replay_key = ""
        if workload == "replay":
            replay_key = prefix + "0"
            first = transfer_once(self.stack.base_url, wallets[0], wallets[1], replay_key)
            if first != 202:
                raise RuntimeError(f"the replayed key's first request answered {first}")
        mode = options.pairs if workload == "uniform" else workload
        self.say(
            f"{workload}: wrk -t{options.threads} -c{options.connections} -d{options.seconds}s "
            f"({mode}, {options.users} users)"
        )
        self.meter.start()
        start = time.time()
        result = self.wrk(mode, options.seconds, users, prefix, replay_key)
        end = time.time()
        use = self.meter.read()
        # wrk has ended by now, so the meter missed it: its CPU comes from its rusage.
        use.parts["load generator"] = use.parts.get("load generator", 0.0) + result.cpu
        backlog = self.stack.ledger.pending_count()
        drained = self.drain()
        if workload == "replay":
            self.replay_figures(result, use)
            return
        window = self.stack.ledger.settled_between(key_prefix=prefix, start=start, end=end)
        settled = sum(window["outcomes"].values())
        rate = settled / (end - start)
        cost, stack_ms = cost_text(use, settled)
        waits = "/".join(f"{w * 1000:.0f}" for w in window["settle_wait"]) or "-"
        line = (
            f"wrk: {result.text()} | settled in the window {settled:,} = {rate:,.0f}/s "
            f"{window['outcomes']}; accept -> settled p50/p99 {waits} ms; PENDING at the end "
            f"{backlog:,} (settled {drained:.1f}s later) | {cost} | {use.text()}"
        )
        self.report.phase(f"{self.name}: {workload} ({mode})", line)
        clean = not result.errors and set(window["outcomes"]) <= {"SUCCESS"}
        target = f">= {TARGETS['settled']:,}/s" + (", 0 errors" if workload == "opposite" else "")
        self.report.figure(
            Figure(
                f"{self.name}: {workload} ({mode}), settled end to end",
                f"{rate:,.0f}/s ({settled:,} in {end - start:.1f}s; accepted "
                f"{result.expected / result.seconds:,.0f}/s); errors {result.errors:,}",
                target,
                rate >= TARGETS["settled"] and (clean or workload != "opposite"),
            )
        )
        self.report.figure(
            Figure(
                f"{self.name}: {workload}, stack CPU per settled transfer",
                cost.removeprefix("CPU ms per settled transfer: "),
                f"<= {TARGETS['stack_cpu_ms']} ms (load generator excluded)",
                stack_ms <= TARGETS["stack_cpu_ms"],
            )
        )

    def replay_figures(self, result: WrkResult, use: CpuUse) -> None:
        rate = result.expected / result.seconds
        cost = use.per_request(result.expected)
        self.report.phase(
            f"{self.name}: replay (one key)", f"wrk: {result.text()} | {cost} | {use.text()}"
        )
        self.report.figure(
            Figure(
                f"{self.name}: replays of one key",
                f"{rate:,.0f}/s answered as replays; other answers {result.errors:,}",
                f">= {TARGETS['replay']:,}/s, every answer a replay",
                rate >= TARGETS["replay"] and not result.errors,
            )
        )


# Nothing but the benchmark's own load may be refused: one sender pays thousands of times a
# second (opposite, replays).
SETTINGS = {"THROTTLE_TRANSFER": "1000000/s"}


def transfer_once(base_url: str, sender: dict, receiver: dict, key: str) -> int:
    body = json.dumps({"receiver_email": receiver["email"], "amount": "1.00"}).encode()
    request = urllib.request.Request(  # noqa: S310 - the stack on 127.0.0.1
        f"{base_url}/api/wallet/transfer/", data=body, method="POST",
        headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {sender['access']}",
            "Idempotency-Key": key,
        },
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return answer.status


def main(argv=None) -> int:
    options = parse_args(argv)
    wrk_version = ensure_wrk()
    report = Report("Closed-loop capacity (wrk)")
    servers = ", ".join(f"{n} x{p}" for n, p in options.servers)
    report.setup = machine() | {
        "Load generator": f"{wrk_version}; -t{options.threads} -c{options.connections}, "
        f"{options.seconds}s per workload after a {options.warmup}s warm-up; "
        f"loadtests/wrk/transfers.lua (a new Idempotency-Key per request, bearer tokens "
        f"issued before each run); {options.users} users per workload, fresh for each",
        "Web servers": servers + f" (`procfile` = `{procfile('web')}`)",
        "Settled": "transfers of the workload whose settled_at falls in wrk's window "
        "(SUCCESS or FAILED, from the database), divided by the window",
    }
    started = time.monotonic()
    clean = True
    with time_limit(options.time_limit):
        for index, (name, processes) in enumerate(options.servers, 1):
            section = Section(options, report, name, processes, index)
            with section.stack:
                clean = section.run() and clean
                settings = section.stack.ledger.server_settings("fsync", "synchronous_commit")
            report.setup["PostgreSQL"] = (
                ", ".join(f"{k}={v}" for k, v in settings.items())
                + " (read with SHOW at the end of each stack's run; never changed here)"
            )
    report.setup["Run time"] = f"{time.monotonic() - started:.0f}s"
    report.notes.append(
        "Written by `make bench-capacity`; rerunning overwrites it. Levers measured and the "
        "server choice: `pipeline-notes.md`."
    )
    report.notes.append(
        "`other processes` is the share of the whole machine (2 cores) that processes "
        "outside the run took while wrk ran; every figure shares those cores with them."
    )
    report.write(options.out)
    print(f"\n{report.markdown()}\n==> Report written to {options.out}")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
