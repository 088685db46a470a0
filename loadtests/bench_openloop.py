"""Open loop with every paying user's socket open (`make bench-openloop`, `make soak`): the
load driver offers transfers at a fixed rate whatever the answers do, between users who each
keep a socket, and times every payment's SUCCESS on its sender's socket.

The stack (stack.py: the Procfile's web, ws, one Celery worker, beat; database dropped and
recreated, Redis db flushed), then:
  users    `manage.py loadtest_provision`: --users users, funded and settled, with tokens
           (refreshed before they expire, so a run may last hours)
  sockets  one per user (ticket over REST, then the socket); every frame's seq is checked
  probe    --probe-rate (50/s) for --probe-seconds: POST -> sender's socket p50/p99
  load     --rate for --duration: random pairs of the users, 1.00-9.99. Every request is
           due at a fixed moment and sent then (the driver's own lateness is measured: a send
           started over 10 ms late counts); latency runs from the due moment
  minutes  each minute: rate, accept p50/p99, POST -> socket p50/p99, RSS of every stack
           process, PostgreSQL connections of the run's database, Redis memory
Then the rest settles, the stack stops, `ledger_audit` runs. The report gives the CPU ms per
settled transfer of every process, what else ran on the machine, and PostgreSQL's fsync and
synchronous_commit (read with SHOW, never changed). `--soak` judges the soak's targets
(rate, share over 1 s, RSS growth) and writes the minute table in full.

Run: .venv/bin/python -m loadtests.bench_openloop --help
"""

import argparse
import asyncio
import contextlib
import gc
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

from loadtests.cpu import PARTS, CpuMeter, processes
from loadtests.data import Population, TokenKeeper, wallets_of
from loadtests.driver import Driver, Request, Tally, percentile, run
from loadtests.provision import provision_funded
from loadtests.report import Figure, Report, audit, load_figures, machine
from loadtests.scenarios import Uniform
from loadtests.shapes import RampThenConstant
from loadtests.sockets import SocketFleet
from loadtests.stack import ROOT, Stack, local_urls, time_limit

TARGETS = {
    "accept_p99_ms": 50,
    "settled_p99_ms": 150,
    "socket_p99_ms": 250,
    "socket_over_1s": 0.001,
    "probe_p50_ms": 10,
    "probe_p99_ms": 50,
    "soak_rate": 700,
    "soak_over_1s": 0.01,
    "rss_growth": 0.10,
}
SETTINGS = {
    # Nothing but the load itself may be refused: the throttles are far above it.
    "THROTTLE_TRANSFER": "1000000/s",
    "THROTTLE_USER": "1000000/s",
    "THROTTLE_ANON": "1000000/s",
    "THROTTLE_TICKET": "1000000/min",
}
BALANCE = "100000.00"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--rate", type=float, default=800, help="offered transfers/s (800)")
    add("--duration", type=int, default=600, help="seconds of load (600)")
    add("--ramp", type=float, default=10, help="seconds of rising load first (10)")
    add("--users", type=int, default=1000, help="paying users, each with a socket (1,000)")
    add("--probe-rate", type=float, default=50, help="the probe's rate (50/s; 0: no probe)")
    add("--probe-seconds", type=float, default=30, help="the probe's duration (30 s)")
    add("--soak", action="store_true", help="judge the soak's targets (make soak)")
    add(
        "--generator-nice",
        type=int,
        default=-5,
        help="scheduling niceness of the load generator's processes, set after the stack has "
        "started (default -5: its sends stay on time when the stack takes every core; needs "
        "root, else left as it is)",
    )
    add("--max-in-flight", type=int, default=1024, help="unanswered at most; then dropped")
    add("--request-timeout", type=float, default=10, help="seconds before no answer (10)")
    add("--web-processes", type=int, default=3, help="web processes (3)")
    add("--worker-concurrency", type=int, default=2, help="Celery prefork children (2)")
    add("--port", type=int, default=0, help="web port (default: a free one); ws uses port+1")
    add("--database", default="vaultpay_bench_openloop", help="dropped and recreated")
    add("--redis-db", type=int, default=3, help="Redis database number, flushed (3)")
    add("--time-limit", type=int, help="hard bound (default: duration + probe + 600 s)")
    add("--seed", type=int, default=2026)
    add("--out", type=Path, help="report (default results/openloop-<rate>.md or soak-...)")
    options = parser.parse_args(argv)
    options.time_limit = options.time_limit or int(options.duration + options.probe_seconds) + 600
    if options.out is None:
        name = f"soak-{options.duration // 60}min" if options.soak else f"openloop-{options.rate:g}"
        options.out = ROOT / "loadtests" / "results" / f"{name}.md"
    return options


class Timings:
    """Per operation: when it was due (perf_counter) and its accept latency; per accepted
    transfer: its due moment on the wall clock (the socket process time-stamps arrivals on
    the same clock)."""

    def __init__(self, start: float | None = None) -> None:
        self.start = time.perf_counter() if start is None else start
        # Seconds to the 202, by the minute (from `start`) the request was due in: a minute's
        # figures are read without going over the whole run (an hour holds millions).
        self.accepted: defaultdict[int, list[float]] = defaultdict(list)
        self.due: dict[str, float] = {}  # transfer id -> wall clock of its due moment
        self.arrived: dict[str, float] = {}  # transfer id -> wall clock of its SUCCESS
        self.offset = time.time() - time.perf_counter()

    def check(self, request: Request, inner):
        def check(answer) -> str | None:
            problem = inner(answer)
            if problem is None:
                minute = int((request.due - self.start) // 60)
                self.accepted[minute].append(time.perf_counter() - request.due)
            return problem

        return check

    def all_accepted(self) -> list[float]:
        return [seconds for minute in sorted(self.accepted) for seconds in self.accepted[minute]]

    def expect(self, transfer_id: str, due: float) -> None:
        self.due[transfer_id] = due + self.offset

    def socket_latencies(self) -> list[float]:
        """POST -> socket of the expected transfers that arrived."""
        return [self.arrived[i] - due for i, due in self.due.items() if i in self.arrived]

    def socket_by_minute(self) -> dict[int, tuple[list[float], int]]:
        """Per minute (from `start`) the POSTs were due in: the POST -> socket latencies that
        arrived, and how many transfers were expected."""
        minutes: defaultdict[int, tuple[list[float], list[int]]] = defaultdict(lambda: ([], [0]))
        start = self.start + self.offset
        for transfer_id, due in self.due.items():
            latencies, expected = minutes[int((due - start) // 60)]
            expected[0] += 1
            if transfer_id in self.arrived:
                latencies.append(self.arrived[transfer_id] - due)
        return {minute: (values, count[0]) for minute, (values, count) in minutes.items()}

    def expected(self) -> int:
        return len(self.due)

    async def wait(self, fleet: SocketFleet, timeout: float) -> None:
        """Collects arrivals until every expected one came, or `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            self.arrived |= fleet.collect()
            if all(i in self.arrived for i in self.due) or time.monotonic() > deadline:
                return
            await asyncio.sleep(0.2)


class Load(Uniform):
    """Random pairs of the users (each has a socket); every accepted transfer is expected on
    its sender's socket."""

    def __init__(self, population, rng, timings: Timings) -> None:
        super().__init__(population, rng)
        self.timings = timings

    def next_request(self) -> Request:
        sender, receiver = self.two_of_the_crowd()
        request = self.transfer(
            sender, receiver, f"{self.rng.randint(1, 9)}.{self.rng.randint(0, 99):02d}",
            on_id=lambda transfer_id: self.timings.expect(transfer_id, request.due),
        )  # fmt: skip
        request.check = self.timings.check(request, request.check)
        return request


class Sampler:
    """Once a minute: RSS of every stack process, PostgreSQL connections, Redis memory."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.samples: list[tuple[float, dict[str, int], int, int]] = []  # (t, rss, pg, redis)

    def rss(self) -> dict[str, int]:
        """KiB by process: web master and workers, ws, worker master and children, beat,
        PostgreSQL backends of the run's database (together), Redis."""
        found: dict[str, int] = {}
        pids = self.stack.pids()
        named = {pids.web_master: "web master", pids.ws: "ws", pids.beat: "beat"}
        named |= {pid: f"web worker {n}" for n, pid in enumerate(sorted(pids.web_workers), 1)}
        if self.stack.serves_sockets:  # with WS_CONCURRENCY > 1, ws is a parent of servers
            ws_children = sorted(self.stack.component("ws").children())
            named |= {pid: f"ws child {n}" for n, pid in enumerate(ws_children, 1)}
        for name, worker in pids.workers.items():
            named[worker.master] = f"{name} master"
            named |= {pid: f"{name} child {n}" for n, pid in enumerate(sorted(worker.children), 1)}
        database = f" {self.stack.database} "
        for process in processes():
            name = named.get(process.pid)
            if name is None and process.cmdline.startswith("postgres"):
                name = "PostgreSQL backends" if database in f"{process.cmdline} " else None
            elif name is None and process.cmdline.startswith("redis-server"):
                name = "Redis"
            if name is not None:
                found[name] = found.get(name, 0) + _rss_kib(process.pid)
        return found

    def sample(self, at: float) -> None:
        ledger = self.stack.ledger
        connections = ledger._one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        )[0]
        redis_memory = _redis_used_memory(self.stack.redis_url)
        self.samples.append((at, self.rss(), connections, redis_memory))


def _ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:.0f}" if values else "-"


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _redis_used_memory(url: str) -> int:
    import redis

    return int(redis.Redis.from_url(url, socket_timeout=5).info("memory")["used_memory"])


class Bench:
    def __init__(self, options, stack: Stack, report: Report) -> None:
        self.options, self.stack, self.report = options, stack, report
        self.rng = random.Random(options.seed)  # noqa: S311 - reproducible load, not secrets
        self.sampler = Sampler(stack)
        self.meter = CpuMeter(stack)
        self.socket_minutes: dict[int, tuple[list[float], int]] = {}

    def say(self, text: str) -> None:
        print(f"==> {text}", flush=True)

    def provision(self) -> None:
        options = self.options
        started = time.monotonic()
        self.document = provision_funded(
            self.stack, prefix="ol", users=options.users, balance=BALANCE
        )
        self.wallets = wallets = wallets_of(self.document)
        self.population = Population(
            password="", hot=wallets[0], a=wallets[0], b=wallets[1], sockets=wallets,
            crowd=wallets, balance=BALANCE, issued_at=self.document["issued_at"],
            access_lifetime=self.document["access_lifetime_seconds"],
        )  # fmt: skip
        self.report.phase(
            "provision", f"{options.users:,} users in {time.monotonic() - started:.1f}s"
        )
        self.say(f"Opening {len(wallets):,} sockets, one per user, in a process of their own")
        started = time.monotonic()
        self.fleet = SocketFleet(self.stack.base_url, wallets)
        self.report.phase("sockets", f"{len(wallets):,} open in {time.monotonic() - started:.1f}s")

    async def run(self) -> None:
        options = self.options
        async with Driver(
            self.stack.base_url,
            max_in_flight=options.max_in_flight,
            request_timeout=options.request_timeout,
        ) as driver:
            keeper = TokenKeeper(
                driver, self.wallets, issued_at=self.document["issued_at"],
                lifetime=self.document["access_lifetime_seconds"], on_refresh=self.fleet.token,
            )  # fmt: skip
            refreshing = asyncio.create_task(keeper.keep())
            # The long-lived objects (users, tokens) out of the collector's way: a full
            # collection over them would pause the driver past its 10 ms lateness bound.
            gc.collect()
            gc.freeze()
            try:
                if options.probe_rate:
                    await self.probe(driver)
                await self.load(driver)
            finally:
                refreshing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refreshing
                self.refreshed = keeper.refreshed, keeper.failures

    async def probe(self, driver: Driver) -> None:
        options = self.options
        self.say(f"Probe: {options.probe_rate:g}/s for {options.probe_seconds:g}s")
        timings = Timings()
        load = Load(self.population, self.rng, timings)
        shape = RampThenConstant(options.probe_rate, options.probe_seconds)
        tally = await driver.open_loop(load.next_request, shape)
        await timings.wait(self.fleet, timeout=options.request_timeout)
        latencies = timings.socket_latencies()
        p50, p99 = (percentile(latencies, p) * 1000 for p in (50, 99))
        line = (
            f"{tally.ok:,}/{tally.offered:,} accepted, POST -> socket p50 {p50:.1f} ms, p99 "
            f"{p99:.1f} ms ({len(latencies):,} delivered); late sends {tally.late}"
        )
        self.report.phase(f"probe {options.probe_rate:g}/s", line)
        self.report.figure(
            Figure(
                f"POST -> sender's socket at {options.probe_rate:g}/s (probe)",
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms; {len(latencies):,} of {tally.ok:,} delivered",
                f"p50 <= {TARGETS['probe_p50_ms']} ms, p99 <= {TARGETS['probe_p99_ms']} ms",
                p50 <= TARGETS["probe_p50_ms"]
                and p99 <= TARGETS["probe_p99_ms"]
                and len(latencies) == tally.ok,
            )
        )

    async def load(self, driver: Driver) -> None:
        options = self.options
        shape = RampThenConstant(options.rate, options.duration, options.ramp)
        self.say(f"Load: {shape}; {options.users:,} sockets open")
        self.perf_start = time.perf_counter()
        self.timings = Timings(self.perf_start)
        self.scenario = Load(self.population, self.rng, self.timings)
        self.meter.start()
        minutes = asyncio.create_task(self.minutes())
        try:
            self.tally = await driver.open_loop(self.scenario.next_request, shape)
        finally:
            minutes.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await minutes
        self.cpu = self.meter.read()
        self.sampler.sample(time.perf_counter())
        self.say("Collecting the socket arrivals")
        await self.timings.wait(self.fleet, timeout=options.request_timeout)
        self.socket_minutes = self.timings.socket_by_minute()
        self.sockets_tally, self.failed = self.fleet.close()

    async def minutes(self) -> None:
        """Samples at the start and once a minute, and prints what the last minute did (the
        socket figures come with the report: the arrivals are collected at the end)."""
        loop = asyncio.get_running_loop()
        self.sampler.sample(time.perf_counter())
        minute = 0
        while True:
            await asyncio.sleep(self.perf_start + 60 * (minute + 1) - time.perf_counter())
            minute += 1
            await loop.run_in_executor(None, self.sampler.sample, time.perf_counter())
            row = self.minute_row(minute - 1)
            print(f"  minute {minute:>3}: {row['text']}", flush=True)

    def minute_row(self, minute: int) -> dict:
        """Figures of the operations due in minute `minute` (0-based) of the load."""
        high = self.perf_start + 60 * (minute + 1)
        accepted = self.timings.accepted.get(minute, [])
        # Empty until the end: the arrivals are collected once the load is over.
        socket, expected = self.socket_minutes.get(minute, ([], 0))
        sample = next((s for s in self.sampler.samples if s[0] >= high - 1), None)
        over = sum(v > 1 for v in socket) + expected - len(socket)
        text = (
            f"{len(accepted) / 60:,.0f}/s accepted; accept p50/p99 {_ms(accepted, 50)}/"
            f"{_ms(accepted, 99)} ms"
        )
        if socket:
            text += (
                f"; POST -> socket p50/p99 {_ms(socket, 50)}/{_ms(socket, 99)} ms, {over} over "
                "1 s or missing"
            )
        if sample:
            rss = ", ".join(f"{k} {v // 1024}" for k, v in sample[1].items())
            text += (
                f"; PostgreSQL connections {sample[2]}; Redis {sample[3] / 2**20:.1f} MiB; "
                f"RSS MiB {rss}"
            )
        return {"accepted": accepted, "socket": socket, "over": over, "sample": sample,
                "text": text}  # fmt: skip

    # The report ------------------------------------------------------------------------------

    def figures(self) -> None:
        options, report, tally = self.options, self.report, self.tally
        accepted = self.timings.all_accepted()
        p50, p99 = (percentile(accepted, p) * 1000 for p in (50, 99))
        unanswered = sum(tally.no_answer.values()) + tally.dropped
        report.figure(
            Figure(
                "Open loop: offered, answered, on time",
                f"offered {tally.offered_rate:,.1f}/s, accepted {tally.rate:,.1f}/s; unanswered "
                f"{unanswered:,} (dropped {tally.dropped:,}, no answer "
                f"{sum(tally.no_answer.values()):,}); sends over 10 ms late {tally.late:,} "
                f"(worst {tally.lag_max * 1000:.1f} ms)",
                "0 unanswered, no send over 10 ms late",
                unanswered == 0 and tally.late == 0,
            )
        )
        report.figure(
            Figure(
                "Accept (from the due moment)",
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
                f"p99 <= {TARGETS['accept_p99_ms']} ms",
                p99 <= TARGETS["accept_p99_ms"],
            )
        )
        timeline = self.stack.ledger.timeline(key_prefix=self.scenario.keys.prefix)
        outcomes = self.stack.ledger.outcomes(key_prefix=self.scenario.keys.prefix)
        waits = [w * 1000 for w in timeline["settle_wait"]] or [float("nan")] * 3
        span = (timeline["settled"] or 0) - (timeline["first"] or 0)
        self.settled = sum(n for k, n in outcomes.items() if k != "PENDING")
        report.figure(
            Figure(
                "Accept -> settled (database clock)",
                f"{timeline['count']:,} transfers, {outcomes}, {self.settled / span:,.1f}/s from "
                f"the first accept to the last settlement; p50/p95/p99 "
                f"{waits[0]:.0f}/{waits[1]:.0f}/{waits[2]:.0f} ms",
                f"p99 <= {TARGETS['settled_p99_ms']} ms",
                waits[2] <= TARGETS["settled_p99_ms"],
            )
        )
        expected = self.timings.expected()
        socket = self.timings.socket_latencies()
        over = sum(v > 1 for v in socket) + expected - len(socket)
        share = over / expected if expected else 1.0
        s50, s99 = (percentile(socket, p) * 1000 for p in (50, 99))
        limit = TARGETS["soak_over_1s"] if options.soak else TARGETS["socket_over_1s"]
        report.figure(
            Figure(
                "POST -> transfer.updated SUCCESS on the sender's socket",
                f"{expected:,} transfers, {expected - len(socket):,} not delivered, "
                f"{sum(self.failed.values()):,} FAILED; "
                f"p50 {s50:.0f} ms, p99 {s99:.0f} ms; {over:,} over 1 s or missing "
                f"({share:.3%})",
                (f"<= {limit:.0%} over 1 s" if options.soak else
                 f"p99 <= {TARGETS['socket_p99_ms']} ms, <= {limit:.1%} over 1 s"),
                share <= limit and (options.soak or s99 <= TARGETS["socket_p99_ms"]),
            )
        )  # fmt: skip
        streams = self.sockets_tally
        report.figure(
            Figure(
                "Socket streams",
                f"{streams.events:,} events on {options.users:,} sockets, {streams.gaps} gaps, "
                f"{streams.duplicates} duplicates, {streams.reconnects} reconnects, server "
                f"closes {dict(streams.closes) or 'none'}",
                "0 gaps, 0 duplicates",
                not streams.gaps and not streams.duplicates,
            )
        )
        if options.soak:
            self.soak_figures(tally)
        load_figures(report, tally, max_in_flight=options.max_in_flight)
        refreshed, failed = self.refreshed
        report.figure(Figure("Token refreshes", f"{refreshed:,} refreshed, {failed:,} failed"))
        self.cpu_figure()

    def soak_figures(self, tally: Tally) -> None:
        report, options = self.report, self.options
        report.figure(
            Figure(
                "Soak rate",
                f"{tally.rate:,.1f}/s accepted for {options.duration}s",
                f">= {TARGETS['soak_rate']}/s",
                tally.rate >= TARGETS["soak_rate"],
            )
        )
        # From the end of the first minute (caches, connections and prepared statements are
        # set up by then) to the end. The stack's processes are judged; PostgreSQL's backends
        # (their number varies) and Redis (the machine's server, shared with other users) are
        # reported.
        samples = self.sampler.samples
        first, last = (samples[1] if len(samples) > 2 else samples[0])[1], samples[-1][1]
        growth = {
            name: last[name] / first[name] - 1 for name in first if name in last and first[name]
        }
        judged = {k: v for k, v in growth.items() if k not in ("PostgreSQL backends", "Redis")}
        worst = max(judged.items(), key=lambda item: item[1], default=("none", 0.0))
        report.figure(
            Figure(
                "RSS growth per process, end of minute 1 to the end",
                ", ".join(f"{k} {v:+.1%}" for k, v in growth.items())
                + f"; worst of the stack's {worst[0]} {worst[1]:+.1%}",
                f"<= {TARGETS['rss_growth']:.0%} each (the stack's processes)",
                worst[1] <= TARGETS["rss_growth"],
            )
        )

    def cpu_figure(self) -> None:
        use, settled = self.cpu, self.settled
        if not settled:
            return
        per = {p: use.parts.get(p, 0.0) * 1000 / settled for p in PARTS}
        stack = sum(v for p, v in per.items() if p != "load generator")
        self.report.figure(
            Figure(
                "CPU ms per settled transfer",
                ", ".join(f"{p} {v:.2f}" for p, v in per.items()) + f"; stack {stack:.2f} "
                "(load generator excluded)",
            )
        )
        self.report.figure(Figure("CPU during the load", use.text()))

    def minute_table(self) -> None:
        """Minute by minute, as the report's notes (the soak's table)."""
        minutes = int(self.options.duration // 60)
        lines = [
            "| Minute | Accepted/s | Accept p50/p99 ms | POST -> socket p50/p99 ms | Over 1 s "
            "or missing | PostgreSQL connections | Redis MiB | RSS MiB per process |",
            "|---|---|---|---|---|---|---|---|",
        ]
        ms = _ms
        for minute in range(minutes):
            row = self.minute_row(minute)
            accepted, socket, sample = row["accepted"], row["socket"], row["sample"]
            cells = [
                str(minute + 1),
                f"{len(accepted) / 60:,.0f}",
                f"{ms(accepted, 50)}/{ms(accepted, 99)}",
                f"{ms(socket, 50)}/{ms(socket, 99)}",
                str(row["over"]),
            ]
            if sample:
                rss = ", ".join(f"{k} {v // 1024}" for k, v in sample[1].items())
                cells += [str(sample[2]), f"{sample[3] / 2**20:.1f}", rss]
            else:
                cells += ["-", "-", "-"]
            lines.append("| " + " | ".join(cells) + " |")
        self.report.sections.append(
            ("Minute by minute (operations due in each minute)", "\n".join(lines))
        )


def generator_priority(niceness: int) -> str:
    """Sets this process's niceness (the socket process inherits it); the stack's processes,
    started before, keep theirs. What was set, for the report."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    except PermissionError:
        return f"{os.getpriority(os.PRIO_PROCESS, 0)} (setting {niceness} needs root)"
    return str(niceness)


def main(argv=None) -> int:
    options = parse_args(argv)
    database_url, redis_url = local_urls(database=options.database, redis_db=options.redis_db)
    stack = Stack(
        database_url=database_url, redis_url=redis_url,
        run_dir=ROOT / ".run" / f"bench-openloop-{options.rate:g}", settings=SETTINGS,
        web_processes=options.web_processes, worker_concurrency=options.worker_concurrency,
        port=options.port, ws_port=options.port + 1 if options.port else 0,
    )  # fmt: skip
    title = "Soak" if options.soak else "Open loop"
    report = Report(f"{title}: {options.rate:g} transfers/s for {options.duration}s, "
                    f"{options.users:,} sockets open")  # fmt: skip
    bench = Bench(options, stack, report)
    started = time.monotonic()
    with time_limit(options.time_limit), stack:
        print(f"==> Resetting {stack.database} and {stack.redis_url}; starting the stack")
        stack.reset()
        stack.start()
        niceness = generator_priority(options.generator_nice)
        bench.provision()
        run(bench.run())
        print("==> Waiting for the last transfers to settle")
        stack.ledger.wait_drained(timeout=120, poll=0.2)
        stack.stop()
        bench.figures()
        clean = audit(stack, report)
        settings = stack.ledger.server_settings("fsync", "synchronous_commit")
    report.setup = machine() | {
        "Stack": stack.describe(),
        "PostgreSQL": ", ".join(f"{k}={v}" for k, v in settings.items())
        + " (read with SHOW; never changed here)",
        "Load generator": "loadtests.driver (aiohttp on uvloop) and loadtests.sockets "
        f"(websockets), one process on the same cores; {options.users:,} users, one socket "
        f"each; random pairs of them, 1.00-9.99; open loop, at most {options.max_in_flight} "
        f"in flight, latency from each request's due moment; niceness {niceness} (the stack "
        "runs at 0)",
        "Command": f"make {'soak' if options.soak else 'bench-openloop'} RATE={options.rate:g} "
        f"DURATION={options.duration}",
        "Run time": f"{time.monotonic() - started:.0f}s",
    }
    bench.minute_table()
    report.notes.append(
        "`other processes` is the share of the whole machine (2 cores) that processes "
        "outside the run took during the load; every figure shares those cores with them."
    )
    report.write(options.out)
    print(f"\n{report.markdown()}\n==> Report written to {options.out}")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
