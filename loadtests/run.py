"""`make loadtest SCENARIO=... RATE=... DURATION=...`: one scenario (or a mix), end to end.

1. The stack (loadtests.stack): unless --url names a running one, a throwaway PostgreSQL
   database (dropped, recreated, migrated), a Redis database of its own (flushed), the
   Procfile's web, ws, worker and beat processes.
2. Provisioning (loadtests.provision): --users wallet users funded by staff deposits.
3. The load (loadtests.driver): the scenario's open loop at --rate for --duration seconds,
   and the socket users paying at --socket-rate, each timing POST -> transfer.updated on its
   socket. Access tokens are refreshed before they expire, so a run may last hours.
4. The last transfers settle (bounded wait); the stack stops; `manage.py ledger_audit`
   checks the ledger; the scenarios' own checks run (replays, exact counts, bad input).
5. `<results>/<name>.md` (loadtests.report); with --history, every request, answer and
   socket frame as JSON lines.

Exit status 1 when the audit fails, anything answered 5xx, a socket saw a gap or a
duplicate, or a scenario check failed; missing a target does not fail the command (it is a
measurement). The whole run is bounded by --time-limit.

Run: .venv/bin/python -m loadtests.run --help
"""

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from loadtests.cpu import CpuMeter
from loadtests.data import Population, TokenKeeper
from loadtests.driver import Driver, Request, Retries, Tally, percentile, run
from loadtests.history import History
from loadtests.ledger import Ledger
from loadtests.provision import provision
from loadtests.report import Figure, Report, audit, load_figures, machine
from loadtests.scenarios import Mix, SocketPayers
from loadtests.shapes import RampThenConstant
from loadtests.sockets import Delivery, Socket, SocketTally, open_all
from loadtests.stack import ROOT, UNTHROTTLED, Stack, local_urls, manage, time_limit

TARGETS = {
    "accept_rate": 800,
    "accept_p99_ms": 50,
    "settled": {"uniform": 1_000, "hot-receiver": 300, "hot-sender": 200},
    "socket_p50_ms": 25,
    "socket_p99_ms": 150,
    "sustained_rate": 500,
    "sustained_seconds": 3600,
    "sustained_over_1s": 0.01,
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--scenario", required=True, help="a scenario, or a mix: uniform=6,replay=2,bad-input=1")
    add("--rate", type=float, default=50, help="offered transfers/s, open loop (default 50)")
    add("--duration", type=int, default=30, help="seconds of load (default 30)")
    add("--ramp", type=float, help="seconds of rising load at the start (default duration/10)")
    add("--users", type=int, default=1000, help="wallet users to provision (default 1,000)")
    add("--balance", default="10000.00", help="each wallet's deposit (default 10000.00)")
    add("--sockets", type=int, default=5, help="socket users (0: none; default 5)")
    add("--socket-rate", type=float, help="their transfers/s together (default rate/20, 1-20)")
    add("--max-in-flight", type=int, default=512, help="open loop: unanswered at most")
    add("--request-timeout", type=float, default=10, help="seconds before a request times out")
    add("--attempts", type=int, default=1, help="sends of a key without an answer or on a 503")
    add("--history", type=Path, help="write every request, answer and frame here (JSON lines)")
    add("--name", help="results name (default: the scenario)")
    add("--results", type=Path, default=ROOT / "loadtests/results", help="results folder")
    add("--url", help="use the stack running here instead (DATABASE_URL must name its db)")
    add("--database", default="vaultpay_load", help="dropped and recreated (own stack only)")
    add("--redis-db", type=int, default=5, help="flushed (own stack only)")
    add("--port", type=int, default=0, help="web port (default: a free one); ws uses port+1")
    add("--web-workers", type=int, default=4, help="web server processes (default 4)")
    add("--workers", type=int, default=1, help="Celery workers (default 1)")
    add("--worker-concurrency", type=int, default=2, help="Celery prefork children")
    add("--drain-timeout", type=float, default=120, help="seconds to wait for settlement")
    add("--time-limit", type=int, help="hard bound of the whole run (default duration + 600)")
    add("--seed", type=int, help="of the scenarios' random choices")
    options = parser.parse_args(argv)
    try:
        options.shares = Mix.shares(options.scenario)
    except ValueError as exc:
        parser.error(str(exc))
    if options.duration < 1 or options.rate <= 0:
        parser.error("--duration and --rate must be above 0")
    options.name = options.name or options.scenario.replace("=", "").replace(",", "+")
    if options.ramp is None:
        options.ramp = min(10.0, options.duration / 10)
    if options.socket_rate is None:
        options.socket_rate = min(20.0, max(1.0, options.rate / 20)) if options.sockets else 0.0
    options.time_limit = options.time_limit or options.duration + 600
    return options


class Run:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.run_dir = ROOT / ".run" / f"loadtest-{options.name}"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.stack = None
        self.shape = RampThenConstant(options.rate, options.duration, options.ramp)
        self.report = Report(f"Load test: {options.name}")
        self.problems: list[str] = []  # each fails the command
        # Hot sender is funded for half of what the run offers it.
        self.hot_units = int(self.shape.total * options.shares.get("hot-sender", 0)) // 2
        if options.url is None:
            database_url, redis_url = local_urls(
                database=options.database, redis_db=options.redis_db
            )
            self.stack = Stack(
                database_url=database_url, redis_url=redis_url, run_dir=self.run_dir,
                settings=UNTHROTTLED, web_processes=options.web_workers, workers=options.workers,
                worker_concurrency=options.worker_concurrency, port=options.port,
                ws_port=options.port + 1 if options.port else 0,
            )  # fmt: skip
            self.url, self.env, self.ledger = self.stack.base_url, self.stack.env, self.stack.ledger
        else:
            database_url = os.environ.get("DATABASE_URL", "")
            if urlsplit(database_url).scheme not in ("postgres", "postgresql"):
                raise SystemExit("--url needs DATABASE_URL naming the stack's database")
            self.url, self.env, self.ledger = options.url, dict(os.environ), Ledger(database_url)

    def say(self, text: str) -> None:
        print(f"==> {text}", flush=True)

    def start(self) -> None:
        if self.stack is None:
            self.say(f"Using the stack at {self.url}")
            return
        self.say(f"Starting the stack: database {self.stack.database}, {self.stack.redis_url}")
        self.stack.reset()
        self.stack.start()

    def serves_sockets(self) -> bool:
        return self.stack is None or self.stack.serves_sockets

    # The load -------------------------------------------------------------------------------

    async def load(self) -> None:
        options = self.options
        history = History(options.history) if options.history else None
        retries = Retries(attempts=options.attempts)
        driver = Driver(
            self.url, max_in_flight=options.max_in_flight,
            request_timeout=options.request_timeout, retries=retries, history=history,
        )  # fmt: skip
        try:
            async with driver:
                await self._load(driver)
        finally:
            if history is not None:
                history.close()

    async def _load(self, driver: Driver) -> None:
        options = self.options
        ready = await driver.fetch(Request("readyz", "GET", "/readyz"))
        if ready.status != 200:
            raise SystemExit(f"{self.url}/readyz answered {ready.kind}")
        self.say(f"Provisioning {options.users:,} users through staff deposits")
        started = time.monotonic()
        users_file = self.run_dir / "users.json"
        await provision(
            driver, users=options.users, out=users_file, balance=options.balance,
            hot_balance=f"{self.hot_units}.00" if self.hot_units else None,
            sockets=options.sockets, env=self.env,
        )  # fmt: skip
        self.provision_seconds = time.monotonic() - started
        self.population = population = Population.load(users_file)
        self.mix = Mix.parse(
            options.scenario, population, funded_units=self.hot_units, seed=options.seed
        )
        keeper = TokenKeeper(
            driver, population.wallets(), issued_at=population.issued_at,
            lifetime=population.access_lifetime,
        )  # fmt: skip
        refreshing = asyncio.create_task(keeper.keep())
        self.socket_tally, self.delivery = SocketTally(), Delivery()
        sockets = []
        if options.sockets and self.serves_sockets():
            sockets = [
                Socket(driver, w, tally=self.socket_tally, on_event=self.delivery.on_event)
                for w in population.sockets
            ]
            await open_all(sockets)
        self.say(
            f"Load: {self.mix.name} at {self.shape}; {len(sockets)} socket users at "
            f"{options.socket_rate:g}/s together"
        )
        self.meter = CpuMeter(self.stack) if self.stack else None
        if self.meter:
            self.meter.start()
        main = driver.open_loop(self.mix.next_request, self.shape)
        socket_load = self.socket_load(driver, sockets)
        self.tally, (self.socket_ops, self.latencies) = await asyncio.gather(main, socket_load)
        self.cpu = self.meter.read() if self.meter else None
        refreshing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refreshing
        self.refreshed = keeper.refreshed, keeper.failures
        await asyncio.gather(*(s.close() for s in sockets))

    async def socket_load(self, driver: Driver, sockets: list[Socket]):
        """Socket users pay random members of the crowd at --socket-rate together; returns
        their tally and the POST -> SUCCESS latencies (from the due moment)."""
        self._accepted: list[str] = []
        if not sockets:
            return Tally(), []

        def accepted(transfer_id: str, request: Request) -> None:
            self.delivery.expect(transfer_id, request.due)
            self._accepted.append(transfer_id)

        payers = SocketPayers(self.population, random.Random(self.options.seed), accepted)  # noqa: S311
        tally = await driver.open_loop(
            payers.next_request, RampThenConstant(self.options.socket_rate, self.options.duration)
        )
        latencies = await self.delivery.wait(self._accepted, timeout=self.options.request_timeout)
        return tally, latencies

    # After the load -------------------------------------------------------------------------

    def drain(self) -> None:
        self.say("Waiting for the last transfers to settle")
        try:
            self.ledger.wait_drained(timeout=self.options.drain_timeout, poll=0.2)
        except TimeoutError as exc:
            self.problems.append(f"not settled within {self.options.drain_timeout:g}s: {exc}")

    def audit(self) -> None:
        if self.stack is not None:
            self.audit_ok = audit(self.stack, self.report)
        else:
            result = manage("ledger_audit", env=self.env, check=False)
            self.audit_ok = result.returncode == 0
            self.report.figure(Figure("ledger_audit", result.stdout[:400], "clean", self.audit_ok))
        if not self.audit_ok:
            self.problems.append("ledger_audit failed")
        sent = len(self._accepted)
        if self.options.duration >= TARGETS["sustained_seconds"] and sent:
            late = sum(v > 1 for v in self.latencies) + sent - len(self.latencies)
            self.report.figure(
                Figure(
                    "Sustained",
                    f"{self.tally.rate:,.0f}/s for {self.options.duration}s, "
                    f"{late / sent:.2%} of socket transfers over 1 s",
                    ">= 500/s for 60 min, <= 1 % over 1 s, clean audit",
                    self.tally.rate >= TARGETS["sustained_rate"]
                    and late / sent <= TARGETS["sustained_over_1s"]
                    and self.audit_ok,
                )
            )

    def figures(self) -> None:
        options, report, tally = self.options, self.report, self.tally
        p50, p95, p99 = (tally.percentile(p) * 1000 for p in (50, 95, 99))
        judged = options.rate >= TARGETS["accept_rate"]
        report.figure(
            Figure(
                "Accept",
                f"offered {tally.offered_rate:,.1f}/s, achieved {tally.rate:,.1f}/s answered as "
                f"expected; p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms",
                f">= {TARGETS['accept_rate']}/s, p99 <= {TARGETS['accept_p99_ms']} ms"
                + ("" if judged else " (not offered at this rate)"),
                tally.rate >= 0.98 * TARGETS["accept_rate"] and p99 <= TARGETS["accept_p99_ms"]
                if judged
                else None,
            )
        )
        for scenario in self.mix.scenarios:
            self.settled_figure(scenario)
        for check in self.mix.verify(self.ledger, tally):
            report.figure(Figure(check.name, check.measured, "exact", check.passed))
            if not check.passed:
                self.problems.append(f"{check.name}: {check.measured}")
        self.socket_figures()
        load_figures(report, tally, max_in_flight=options.max_in_flight)
        for kind, count in (tally.server_errors + self.socket_ops.server_errors).items():
            self.problems.append(f"5xx answers: {kind} x{count}")
        refreshed, failed = self.refreshed
        report.figure(Figure("Token refreshes", f"{refreshed:,} refreshed, {failed:,} failed"))
        if self.cpu is not None:
            report.figure(Figure("CPU during the load", self.cpu.text()))
        report.phase("provision", f"{options.users:,} users in {self.provision_seconds:.1f}s")
        for name, values in sorted(tally.latencies.items()):
            report.phase(
                name,
                f"{len(values):,} as expected; p50/p95/p99 "
                + "/".join(f"{percentile(values, p) * 1000:.0f}" for p in (50, 95, 99))
                + " ms",
            )

    def settled_figure(self, scenario) -> None:
        share = self.options.shares[scenario.name]
        outcomes = self.ledger.outcomes(key_prefix=scenario.keys.prefix)
        timeline = self.ledger.timeline(key_prefix=scenario.keys.prefix)
        rate = 0.0
        if timeline["count"] and timeline["settled"]:
            rate = timeline["count"] / max(timeline["settled"] - timeline["first"], 1e-9)
        target = TARGETS["settled"].get(scenario.name)
        judged = target is not None and self.options.rate * share >= target
        waits = "/".join(f"{w * 1000:.0f}" for w in timeline["settle_wait"])
        self.report.figure(
            Figure(
                f"Settled, {scenario.name} (first accept to last settlement)",
                f"{sum(outcomes.values()):,} transfers at {rate:,.1f}/s; {outcomes}; "
                f"accept -> settled p50/p95/p99 {waits} ms",
                (f">= {target:,}/s" + ("" if judged else " (not offered at this rate)"))
                if target
                else "",
                rate >= 0.98 * target if judged else None,
            )
        )

    def socket_figures(self) -> None:
        options, sockets = self.options, self.socket_tally
        name = "POST -> transfer.updated SUCCESS on the socket"
        target = f"p50 <= {TARGETS['socket_p50_ms']} ms, p99 <= {TARGETS['socket_p99_ms']} ms"
        if not options.sockets or not self.serves_sockets():
            why = "no socket users (--sockets 0)" if not options.sockets else "no ws process"
            self.report.figure(Figure(name, why, target, None))
            return
        latencies, sent = self.latencies, len(self._accepted)
        if not latencies:
            self.problems.append("the socket users measured nothing")
            self.report.figure(Figure(name, "nothing delivered", target, False))
            return
        p50, p95, p99 = (percentile(latencies, p) * 1000 for p in (50, 95, 99))
        late = sum(v > 1 for v in latencies) + sent - len(latencies)
        self.report.figure(
            Figure(
                name,
                f"{sent:,} transfers, {sent - len(latencies):,} not delivered, "
                f"{sum(self.delivery.failed.values()):,} FAILED; p50 {p50:.0f} ms, p95 "
                f"{p95:.0f} ms, p99 {p99:.0f} ms; {late:,} over 1 s ({late / sent:.2%})",
                target + " at half load",
                p50 <= TARGETS["socket_p50_ms"] and p99 <= TARGETS["socket_p99_ms"],
            )
        )
        streams = (
            f"{sockets.events:,} events, {sockets.gaps} gaps, {sockets.duplicates} duplicates; "
            f"{sockets.opened} opened, {sockets.reconnects} reconnects, server closes "
            f"{dict(sockets.closes) or 'none'}"
        )
        clean = not sockets.gaps and not sockets.duplicates
        self.report.figure(Figure("Socket streams", streams, "0 gaps, 0 duplicates", clean))
        if not clean:
            self.problems.append(f"socket streams: {streams}")

    def write(self) -> Path:
        options = self.options
        stack = self.stack.describe() if self.stack else f"the stack at {self.url}"
        self.report.setup = {
            **machine(),
            "Stack": stack,
            "Load": (
                f"`{self.mix.name}` ({self.options.scenario}), {self.shape}; {options.sockets} "
                f"socket users at {options.socket_rate:g}/s together; {options.users:,} users; "
                f"{options.attempts} attempt(s) per key"
            ),
            "Load generator": "loadtests.driver: aiohttp on uvloop, one process on the same "
            "cores as the stack; latencies from each request's due moment",
            "Command": (
                f"make loadtest SCENARIO={options.scenario} RATE={options.rate:g} "
                f"DURATION={options.duration}"
            ),
            "Result": "FAILED: " + "; ".join(self.problems) if self.problems else "passed",
        }
        path = options.results / f"{options.name}.md"
        self.report.write(path)
        return path


def main(argv=None) -> int:
    options = parse_args(argv)
    run_ = Run(options)
    try:
        with time_limit(options.time_limit):
            try:
                run_.start()
                run(run_.load())
                run_.drain()
                if run_.stack is not None:
                    run_.stack.close()  # the audit sees the ledger at rest
                run_.figures()
                run_.audit()
            finally:
                if run_.stack is not None:
                    run_.stack.close()
    except subprocess.CalledProcessError as exc:
        print(f"a command failed: {' '.join(exc.cmd)}\n{exc.stdout}\n{exc.stderr}")
        raise
    path = run_.write()
    print(f"\n{run_.report.markdown()}\n==> Report written to {path}")
    if run_.problems:
        print("FAILED: " + "; ".join(run_.problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
