"""Benchmark of realtime delivery (`make bench-realtime`): the Procfile's processes (web for
REST, ws for the sockets, a Celery worker and beat), PostgreSQL and Redis, on this machine's
cores with the load generator.

Phases, each printing its figures as it goes:
  connect    the latency pool's sockets (one per user) and the fan-out pool's (several per
             user) are opened with tickets from the REST API.
  search     open loops at rising rates for a few seconds each: the highest rate at which
             every transfer is accepted (at least 95 % of the offered rate, no error, none
             dropped) and its SUCCESS reaches the sender's socket is the sustained rate.
  latency    POST -> `transfer.updated` SUCCESS on the sender's socket (from the moment the
             POST was due, so a stalled server cannot hide queueing): p50/p95/p99 at 50/s,
             at half the sustained rate and at the sustained rate.
  fan-out    1,000 sockets (users with several sockets each, as with several tabs or
             devices) under a steady transfer rate: messages/s delivered, and the delay from
             the settling transaction's timestamp to delivery (the transaction takes it
             before its commit, so this bounds commit-to-delivery from above). Then a burst:
             a backlog accepted with the workers stopped and settled at once, which offers
             messages at the settlement rate rather than the accept rate.
  reconnect  under load, sockets are closed at random and reopened with `after_seq` = the
             last seq they saw: every socket must see every seq exactly once, in order.
Every socket checks every message it gets (loadtests.sockets). Then `ledger_audit`, whose
failure fails the run.

Run: .venv/bin/python -m loadtests.bench_realtime --help
"""

import argparse
import asyncio
import random
import resource
import sys
import time
from datetime import datetime
from pathlib import Path

from loadtests.cpu import CpuMeter, CpuUse
from loadtests.data import Population, wallets_of
from loadtests.driver import Driver, Request, Tally, percentile
from loadtests.provision import provision_funded
from loadtests.report import Figure, Report, audit, benchmark
from loadtests.scenarios import SocketPayers, Uniform
from loadtests.shapes import RampThenConstant
from loadtests.sockets import Delivery, Socket, SocketTally, open_all
from loadtests.stack import ROOT, Stack, local_urls

# POST -> the sender's socket at 50/s; fan-out over 1,000 sockets (exact: no gap, no duplicate).
TARGETS = {"p50_ms": 10, "p99_ms": 50, "fanout_rate": 5_000, "fanout_p99_ms": 100}
LATENCY_TARGET_RATE = 50.0
BALANCE = "10000.00"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--latency-users", type=int, default=200, help="users with one socket each (200)")
    add("--search-rates", default="25,50,100,200,300,400,600,800", help="open-loop rates tried")
    add("--search-seconds", type=float, default=5, help="seconds per search rate (5)")
    add("--measure-seconds", type=float, default=10, help="seconds per latency rate (10)")
    add("--fanout-users", type=int, default=250, help="users of the fan-out pool (250)")
    add("--sockets-per-user", type=int, default=4, help="sockets per fan-out user (4)")
    # 16 socket messages a transfer (two users x two events x four sockets): 320/s offers
    # about 5,100 messages/s.
    add("--fanout-rate", type=float, default=320, help="transfers/s in the fan-out (320)")
    add("--fanout-seconds", type=float, default=10, help="seconds of fan-out load (10)")
    add("--burst-transfers", type=int, default=1_500, help="backlog of the fan-out burst")
    add("--reconnect-rate", type=float, default=100, help="transfers/s while reconnecting")
    add("--reconnect-seconds", type=float, default=10, help="seconds of forced reconnects")
    add("--reconnects-per-second", type=float, default=40, help="forced reconnects per second")
    add("--web-processes", type=int, default=4, help="web server processes (4)")
    add("--ws-processes", type=int, default=1, help="socket server processes (1)")
    add("--port", type=int, default=0, help="REST port, sockets on port + 50 (any free)")
    add("--worker-concurrency", type=int, default=2, help="Celery prefork children (2)")
    add("--database", default="vaultpay_rt_bench", help="dropped and recreated")
    add("--redis-db", type=int, default=3, help="Redis database number, flushed")
    add("--time-limit", type=int, default=720, help="seconds before the run is aborted")
    add("--seed", type=int, default=2026)
    add("--out", type=Path, default=ROOT / "loadtests/results/realtime.md")
    return parser.parse_args(argv)


def ms(values: list[float]) -> str:
    return " / ".join(f"{percentile(values, p) * 1000:.1f}" for p in (50, 95, 99))


def _wall(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def pool(wallets: list, sockets: list | None = None) -> Population:
    """A population of benchmark users: each may pay any other."""
    return Population(
        password="", hot=wallets[0], a=wallets[0], b=wallets[1], sockets=sockets or wallets,
        crowd=wallets, balance=BALANCE, issued_at=0, access_lifetime=0,
    )  # fmt: skip


class Bench:
    def __init__(self, options: argparse.Namespace, stack: Stack, report: Report) -> None:
        self.options, self.stack, self.report = options, stack, report
        self.rng = random.Random(options.seed)  # noqa: S311 - reproducible load, not secrets
        self.meter = CpuMeter(stack)
        self.tally = SocketTally()
        self.delivery = Delivery()
        self.delays: list[float] | None = None  # fan-out: settle timestamp -> delivery
        self.fanout_times: list[float] = []
        self.meter.start()

    def phase(self, name: str, line: str) -> CpuUse:
        """Prints the phase's line with what else ran meanwhile; returns the CPU it used."""
        use = self.meter.read()
        top = ", ".join(f"{command} {s:.1f}s" for command, s in use.others_top) or "nothing"
        self.report.phase(name, f"{line}; other processes {use.others_share:.0%} (busiest: {top})")
        self.meter.start()
        return use

    def cpu_figure(self, name: str, use: CpuUse, count: int, unit: str) -> None:
        self.report.figure(Figure(f"CPU, {name}", f"{use.per_request(count, unit)}; {use.text()}"))

    def on_event(self, socket: Socket, message: dict, now: float) -> None:
        if self.delays is not None:
            self.fanout_times.append(now)
            stamp = (
                message["transfer"]["settled_at"]
                if message["type"] == "transfer.updated"
                else message["balance"]["updated_at"]
            )
            self.delays.append(time.time() - _wall(stamp))
        self.delivery.on_event(socket, message, now)

    def sockets_of(self, wallets: list, per_user: int = 1) -> list[Socket]:
        return [
            Socket(self.driver, w, tally=self.tally, on_event=self.on_event)
            for w in wallets
            for _ in range(per_user)
        ]

    # Setup ----------------------------------------------------------------------------------

    async def setup(self) -> None:
        started = time.monotonic()
        options = self.options
        latency = provision_funded(
            self.stack, prefix="lat", users=options.latency_users, balance=BALANCE
        )
        fanout = provision_funded(
            self.stack, prefix="fan", users=options.fanout_users, balance=BALANCE
        )
        self.latency_pool, self.fanout_pool = pool(wallets_of(latency)), pool(wallets_of(fanout))
        self.phase(
            "provision",
            f"{options.latency_users + options.fanout_users:,} users funded, tokens issued "
            f"in {time.monotonic() - started:.1f}s",
        )
        started = time.monotonic()
        self.latency_sockets = await open_all(self.sockets_of(self.latency_pool.crowd))
        self.fanout_sockets = await open_all(
            self.sockets_of(self.fanout_pool.crowd, options.sockets_per_user)
        )
        self.phase(
            "connect",
            f"{len(self.latency_sockets) + len(self.fanout_sockets):,} sockets open "
            f"({len(self.latency_sockets)} latency, {len(self.fanout_sockets)} fan-out) in "
            f"{time.monotonic() - started:.1f}s",
        )

    # Load -------------------------------------------------------------------------------------

    async def load(self, population: Population, rate: float, seconds: float):
        """Open loop of 1.00 transfers between random distinct users of `population`; returns
        the tally and the ids of the accepted transfers."""
        accepted: list[str] = []

        def expect(transfer_id: str, request: Request) -> None:
            self.delivery.expect(transfer_id, request.due)
            accepted.append(transfer_id)

        payers = SocketPayers(population, self.rng, expect)
        tally = await self.driver.open_loop(payers.next_request, RampThenConstant(rate, seconds))
        return tally, accepted

    async def latency_run(self, rate: float, seconds: float):
        tally, accepted = await self.load(self.latency_pool, rate, seconds)
        latencies = await self.delivery.wait(accepted, timeout=30)
        return tally, accepted, latencies

    def latency_line(self, rate: float, tally: Tally, accepted: list, latencies: list) -> str:
        return (
            f"offered {rate:.0f}/s; accepted {len(accepted):,} = {tally.rate:.0f}/s; SUCCESS on "
            f"the sender's socket p50/p95/p99 {ms(latencies)} ms; not delivered "
            f"{len(accepted) - len(latencies)}; errors {tally.error_text()}; dropped "
            f"{tally.dropped}"
        )

    async def search(self) -> float:
        sustained = 0.0
        for rate in (float(r) for r in self.options.search_rates.split(",")):
            tally, accepted, latencies = await self.latency_run(rate, self.options.search_seconds)
            self.phase(f"search, {rate:.0f}/s", self.latency_line(rate, tally, accepted, latencies))
            kept_up = (
                not tally.errors()
                and not tally.dropped
                and len(latencies) == len(accepted)
                and tally.rate >= 0.95 * rate
            )
            await self.settle_down()
            if not kept_up:
                break
            sustained = rate
        return sustained

    async def settle_down(self) -> None:
        """Lets the pipeline drain before the next measurement."""
        await asyncio.to_thread(self.stack.ledger.wait_drained, timeout=120)
        await asyncio.sleep(1)

    async def latency(self, sustained: float) -> None:
        rates = [("50/s", LATENCY_TARGET_RATE)]
        if sustained:
            rates += [("half the sustained rate", sustained / 2), ("the sustained rate", sustained)]
        for label, rate in rates:
            tally, accepted, latencies = await self.latency_run(rate, self.options.measure_seconds)
            line = self.latency_line(rate, tally, accepted, latencies)
            use = self.phase(f"latency, {rate:.0f}/s", line)
            p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
            missing = len(accepted) - len(latencies)
            clean = not tally.errors() and not tally.dropped and not missing
            target = label == "50/s"
            if target:
                self.cpu_figure(f"latency at {rate:.0f}/s", use, len(accepted), "transfer")
            self.report.figure(
                Figure(
                    f"POST -> transfer.updated SUCCESS on the sender's socket, {label} "
                    f"({rate:.0f}/s offered)",
                    f"p50 {p50:.1f} ms, p95 {percentile(latencies, 95) * 1000:.1f} ms, "
                    f"p99 {p99:.1f} ms over {len(latencies):,} transfers; "
                    f"accepted {tally.rate:.0f}/s; not delivered {missing}",
                    f"p50 <= {TARGETS['p50_ms']} ms, p99 <= {TARGETS['p99_ms']} ms"
                    if target
                    else "",
                    (clean and p50 <= TARGETS["p50_ms"] and p99 <= TARGETS["p99_ms"])
                    if target
                    else None,
                )
            )
            await self.settle_down()
        self.report.figure(
            Figure(
                "Sustained rate (>= 95 % of the offered rate accepted, no error or drop, every "
                "SUCCESS delivered)",
                f"{sustained:.0f}/s (of the rates tried: {self.options.search_rates})",
            )
        )

    async def fanout(self) -> None:
        """Steady: the fan-out pool's users pay each other at --fanout-rate, workers running."""
        options = self.options
        self.delays, self.fanout_times = [], []
        before = self.tally.events
        tally, accepted = await self.load(
            self.fanout_pool, options.fanout_rate, options.fanout_seconds
        )
        await self.delivery.wait(accepted, timeout=30)
        await self._fanout_report(
            "steady",
            f"{options.fanout_rate:.0f} transfers/s offered, {tally.rate:.0f}/s accepted",
            before,
            f"errors {tally.error_text()}, dropped {tally.dropped}",
        )

    async def fanout_burst(self) -> None:
        """Capacity: a backlog accepted with the workers stopped, then settled at once (the
        settlement rate, far above what the accept path sustains here)."""
        options = self.options
        await asyncio.to_thread(self.stack.stop_workers)
        uniform = Uniform(self.fanout_pool, self.rng)
        requests = [uniform.next_request() for _ in range(options.burst_transfers)]
        accepted = await self.driver.closed_loop(requests, clients=32)
        self.delays, self.fanout_times = [], []
        before = self.tally.events
        await asyncio.to_thread(self.stack.start_workers)
        await self._fanout_report(
            "burst", f"a backlog of {accepted.ok:,} transfers settled at once", before, ""
        )

    async def _fanout_report(self, name: str, label: str, before: int, extra: str) -> None:
        sockets = self.fanout_sockets
        gaps, duplicates = self.tally.gaps, self.tally.duplicates
        await asyncio.to_thread(self.stack.ledger.wait_drained, timeout=120)
        await asyncio.gather(*(s.sync() for s in sockets))
        delays, times = self.delays, self.fanout_times
        self.delays = None
        count = self.tally.events - before
        span = (max(times) - min(times)) if len(times) > 1 else float("nan")
        rate = len(times) / span if span else 0.0
        p99 = percentile(delays, 99) * 1000
        new_gaps, new_dups = self.tally.gaps - gaps, self.tally.duplicates - duplicates
        use = self.phase(
            f"fan-out {name}, {len(sockets):,} sockets",
            f"{label}: {count:,} messages in {span:.2f}s = {rate:,.0f} messages/s; "
            f"settle-to-delivery p50/p95/p99 {ms(delays)} ms; gaps {new_gaps}, duplicates "
            f"{new_dups}" + (f"; {extra}" if extra else ""),
        )
        self.report.figure(
            Figure(
                f"Fan-out: {len(sockets):,} sockets ({len(self.fanout_pool.crowd)} users x "
                f"{self.options.sockets_per_user}), {label}",
                f"{rate:,.0f} messages/s delivered ({count:,} in {span:.2f}s); "
                f"commit-to-delivery p50 {percentile(delays, 50) * 1000:.1f} ms, "
                f"p95 {percentile(delays, 95) * 1000:.1f} ms, p99 {p99:.1f} ms "
                "(from the settling transaction's timestamp, taken before its commit); "
                f"{new_gaps} gaps, {new_dups} duplicates",
                f">= {TARGETS['fanout_rate']:,} messages/s, p99 <= {TARGETS['fanout_p99_ms']} ms, "
                "0 gaps, 0 duplicates",
                rate >= TARGETS["fanout_rate"]
                and p99 <= TARGETS["fanout_p99_ms"]
                and new_gaps == 0
                and new_dups == 0,
            )
        )
        self.cpu_figure(f"fan-out {name}", use, count, "message")

    async def reconnects(self) -> None:
        options = self.options
        sockets = self.latency_sockets
        gaps, duplicates = self.tally.gaps, self.tally.duplicates
        reopened = 0
        stop = asyncio.Event()
        reopening: dict[Socket, asyncio.Task] = {}

        async def reopen(socket: Socket) -> None:
            nonlocal reopened
            await socket.reopen()
            reopened += 1
            del reopening[socket]

        async def churn() -> None:
            """A reconnect is due every 1 / rate seconds, of a socket not already reopening."""
            while not stop.is_set():
                await asyncio.sleep(1 / options.reconnects_per_second)
                socket = self.rng.choice(sockets)
                if socket not in reopening:
                    reopening[socket] = asyncio.create_task(reopen(socket))
            await asyncio.gather(*reopening.values())

        churning = asyncio.create_task(churn())
        _, accepted = await self.load(
            self.latency_pool, options.reconnect_rate, options.reconnect_seconds
        )
        stop.set()
        await churning
        await asyncio.to_thread(self.stack.ledger.wait_drained, timeout=120)
        latest = await asyncio.gather(*(s.sync() for s in sockets))
        stored = self.stack.ledger.latest_seqs([s.wallet.email for s in sockets])
        behind = sum(
            1 for s, seq in zip(sockets, latest, strict=True) if seq != stored[s.wallet.email]
        )
        new_gaps, new_dups = self.tally.gaps - gaps, self.tally.duplicates - duplicates
        self.phase(
            "reconnect",
            f"{reopened:,} forced reconnects of {len(sockets)} sockets while "
            f"{len(accepted):,} transfers settled; gaps {new_gaps}, duplicates "
            f"{new_dups}; sockets not at their stored latest seq after a ping: {behind}",
        )
        self.report.figure(
            Figure(
                f"Forced reconnects with after_seq ({reopened:,} under "
                f"{options.reconnect_rate:.0f} transfers/s)",
                f"{new_gaps} gaps, {new_dups} duplicates, {behind} sockets behind",
                "0 gaps, 0 duplicates",
                new_gaps == 0 and new_dups == 0 and behind == 0 and reopened > 0,
            )
        )

    async def run(self) -> bool:
        async with Driver(self.stack.base_url, max_in_flight=256, request_timeout=60) as driver:
            self.driver = driver
            await self.setup()
            sustained = await self.search()
            await self.latency(sustained)
            await self.fanout()
            await self.fanout_burst()
            await self.reconnects()
            self.report.figure(
                Figure(
                    "Every socket, whole run: seqs checked on every message",
                    f"{self.tally.events:,} events; {self.tally.gaps} gaps, "
                    f"{self.tally.duplicates} duplicates; server closes "
                    f"{dict(self.tally.closes) or 'none'}",
                    "0 gaps, 0 duplicates",
                    self.tally.gaps == 0 and self.tally.duplicates == 0,
                )
            )
            await asyncio.gather(*(s.close() for s in self.latency_sockets + self.fanout_sockets))
        self.stack.close()
        return audit(self.stack, self.report)


def main(argv=None) -> int:
    options = parse_args(argv)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # thousands of sockets, both ends
    run_dir = ROOT / ".run" / "bench-realtime"
    database_url, redis_url = local_urls(database=options.database, redis_db=options.redis_db)
    settings = {
        "THROTTLE_TRANSFER": "5000/s",
        "THROTTLE_TICKET": "5000/s",
        "THROTTLE_USER": "100000/min",
    }
    stack = Stack(
        database_url=database_url, redis_url=redis_url, run_dir=run_dir, settings=settings,
        web_processes=options.web_processes, ws_processes=options.ws_processes,
        worker_concurrency=options.worker_concurrency,
        port=options.port, ws_port=options.port + 50 if options.port else 0,
    )  # fmt: skip
    report = Report("Realtime delivery benchmark")
    report.setup |= {
        "Load generator": "loadtests.driver and loadtests.sockets on one uvloop event loop in "
        "this process; open loops of 1.00 transfers between random distinct users",
        "Sockets": f"latency pool {options.latency_users} users x 1 socket; fan-out pool "
        f"{options.fanout_users} users x {options.sockets_per_user} sockets",
        "Options": " ".join(sys.argv[1:] if argv is None else argv) or "the defaults",
    }
    return benchmark(
        stack, report, command="make bench-realtime", seconds=options.time_limit,
        phases=lambda: Bench(options, stack, report).run(), out=options.out,
        notes="realtime-notes.md",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
