"""Benchmark of the transfer pipeline (`make bench-pipeline`): the real HTTP API, PostgreSQL,
Redis and Celery workers, all on this machine's cores with the load generator.

Phases, each printing its figures as it goes:
  accept     workers stopped: an open loop at the target rate, then a closed loop at
             capacity. The transfers accepted here are the uniform backlog.
  uniform    workers started: time to settle that backlog (random pairs of all users).
  hot-recv   workers stopped, the users pay one receiver, workers started: drain time.
  hot-send   the same for one sender paying many, sized so an exact count must succeed.
  opposite   workers running: A->B and B->A at once, many clients, until settled.
  replay     one key sent again and again: every answer must be the replay.
Then `ledger_audit`, whose failure fails the run, and the report.

Run: .venv/bin/python -m loadtests.bench_pipeline --help
"""

import argparse
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

from loadtests.cpu import CpuMeter
from loadtests.data import Population, wallets_of
from loadtests.driver import Answer, Driver, Tally
from loadtests.provision import provision_funded
from loadtests.report import Figure, Report, audit, benchmark, ms, outcome_line
from loadtests.scenarios import HotReceiver, HotSender, Opposite, Scenario, Uniform
from loadtests.shapes import RampThenConstant
from loadtests.stack import ROOT, Stack, local_urls

TARGETS = {
    "accept_rate": 800,
    "accept_p99_ms": 50,
    "uniform": 1_000,
    "hot_receiver": 300,
    "hot_sender": 200,
    "opposite": 300,
    "replay": 2_000,
}
BALANCE = "10000.00"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--users", type=int, default=10_000, help="uniform population (default 10,000)")
    add("--backlog", type=int, default=20_000, help="uniform transfers accepted in all")
    add("--web-processes", type=int, default=4, help="web server processes (default 4)")
    add("--clients", type=int, default=32, help="closed-loop clients (default 32)")
    add("--paced-rate", type=float, default=800, help="open-loop accept rate (default 800/s)")
    add("--paced-seconds", type=float, default=5, help="open-loop duration (default 5 s)")
    add("--workers", type=int, default=1, help="Celery workers (default 1)")
    add("--worker-concurrency", type=int, default=2, help="Celery prefork children")
    add("--partitions", type=int, default=2, help="SETTLEMENT_PARTITIONS")
    add("--batch-size", type=int, default=500, help="SETTLEMENT_BATCH_SIZE")
    add(
        "--throttle",
        default="5000/s",
        help="THROTTLE_TRANSFER; high enough that one sender is never throttled (hot sender, "
        "replays)",
    )
    add("--hot-sender-count", type=int, default=3_000, help="transfers of the hot sender")
    add("--pair-count", type=int, default=6_000, help="transfers A<->B, both ways together")
    add("--pair-clients", type=int, default=80, help="clients A<->B")
    add("--replays", type=int, default=5_000, help="replays of one key")
    add("--database", default="vaultpay_bench", help="dropped and recreated")
    add("--redis-db", type=int, default=7, help="Redis database number, flushed")
    add("--time-limit", type=int, default=840, help="seconds before the run is aborted")
    add("--seed", type=int, default=2026)
    add("--out", type=Path, default=ROOT / "loadtests/results/pipeline.md")
    return parser.parse_args(argv)


class Bench:
    def __init__(self, options: argparse.Namespace, stack: Stack, report: Report) -> None:
        self.options, self.stack, self.report = options, stack, report
        self.rng = random.Random(options.seed)  # noqa: S311 - reproducible load, not secrets
        self.meter = CpuMeter(stack)
        self.meter.start()

    def phase(self, name: str, line: str, requests: int = 0) -> None:
        """Reports a phase's figures with the share of the machine other processes took
        meanwhile and, given its number of requests (or transfers), the CPU each part of the
        stack spent per request; then starts measuring the next phase."""
        use = self.meter.read()
        cost = f"; {use.per_request(requests)}" if requests else ""
        self.report.phase(name, f"{line}{cost}; other processes {use.others_share:.0%}")
        self.meter.start()

    def driver(self, connections: int) -> Driver:
        return Driver(self.stack.base_url, max_in_flight=connections, request_timeout=30)

    def batch(self, scenario: Scenario, count: int) -> list:
        return [scenario.next_request() for _ in range(count)]

    # Setup ----------------------------------------------------------------------------------

    def provision(self) -> None:
        started = time.monotonic()
        options = self.options
        users = provision_funded(self.stack, prefix="u", users=options.users, balance=BALANCE)
        self.funded_units = options.hot_sender_count // 2  # the hot sender affords half
        hot = provision_funded(self.stack, prefix="hs", users=1, balance=f"{self.funded_units}.00")
        pair = wallets_of(provision_funded(self.stack, prefix="ab", users=2, balance=BALANCE))
        self.population = Population(
            password="", hot=wallets_of(hot)[0], a=pair[0], b=pair[1], sockets=[],
            crowd=wallets_of(users), balance=BALANCE, issued_at=users["issued_at"],
            access_lifetime=users["access_lifetime_seconds"],
        )  # fmt: skip
        self.phase(
            "provision",
            f"{options.users + 3:,} users with wallets, funded and settled, tokens issued "
            f"in {time.monotonic() - started:.1f}s",
        )

    # Phases ---------------------------------------------------------------------------------

    async def accept(self) -> None:
        """Workers stopped: the paced load, then capacity until the backlog is complete."""
        options = self.options
        self.uniform = Uniform(self.population, self.rng)
        async with self.driver(max(256, options.clients)) as driver:
            shape = RampThenConstant(options.paced_rate, options.paced_seconds)
            paced = await driver.open_loop(self.uniform.next_request, shape)
            self.phase(
                "accept, paced",
                outcome_line(paced, offered=f"{options.paced_rate:.0f}/s open loop"),
                paced.ok,
            )
            count = max(0, options.backlog - paced.ok)
            capacity = await driver.closed_loop(
                self.batch(self.uniform, count), clients=options.clients
            )
            self.phase(
                "accept, capacity",
                outcome_line(capacity, offered=f"{options.clients} clients"),
                capacity.ok,
            )
        rate, p99_ms = TARGETS["accept_rate"], TARGETS["accept_p99_ms"]
        p99 = paced.percentile(99) * 1000
        self.report.figure(
            Figure(
                f"Accept, workers stopped, web {options.web_processes} processes",
                f"capacity {capacity.rate:,.0f}/s (p50 {ms(capacity.percentile(50))}, p99 "
                f"{ms(capacity.percentile(99))}); offered {options.paced_rate:.0f}/s for "
                f"{options.paced_seconds:.0f}s: {paced.rate:,.0f}/s, p50 "
                f"{ms(paced.percentile(50))}, p99 {p99:.1f} ms, errors {paced.error_text()}, "
                f"dropped {paced.dropped}",
                f">= {rate}/s with p99 <= {p99_ms} ms",
                not paced.errors() and not paced.dropped and paced.rate >= 0.98 * rate
                and p99 <= p99_ms,
            )
        )  # fmt: skip

    def drain(self, name: str, scenario: Scenario) -> tuple[float, dict]:
        """Starts the workers on the PENDING backlog and times it to zero."""
        backlog = self.stack.ledger.pending_count()
        ready = self.stack.start_workers()
        self.meter.start()
        seconds = self.stack.ledger.wait_drained(timeout=300) - ready
        outcomes = self.stack.ledger.outcomes(key_prefix=scenario.keys.prefix)
        rate = backlog / seconds
        self.phase(
            f"drain, {name}",
            f"{backlog:,} PENDING settled in {seconds:.2f}s = {rate:,.0f}/s; outcomes {outcomes}",
            backlog,
        )
        return rate, outcomes

    async def stopped_then_drained(self, name: str, scenario: Scenario, count: int):
        """Workers stopped, `count` of the scenario's transfers accepted, then the drain."""
        self.stack.stop_workers()
        async with self.driver(self.options.clients) as driver:
            accepted = await driver.closed_loop(
                self.batch(scenario, count), clients=self.options.clients
            )
        self.phase(f"accept, {name}", outcome_line(accepted), accepted.ok)
        rate, outcomes = self.drain(name, scenario)
        return accepted, rate, outcomes

    def uniform_drain(self) -> None:
        rate, outcomes = self.drain("uniform", self.uniform)
        self.report.figure(
            Figure(
                f"Uniform drain, {sum(outcomes.values()):,} over {self.options.users:,} accounts",
                f"{rate:,.0f}/s; {outcomes}",
                f">= {TARGETS['uniform']:,}/s, all SUCCESS",
                rate >= TARGETS["uniform"] and set(outcomes) == {"SUCCESS"},
            )
        )

    async def hot_receiver(self) -> None:
        scenario = HotReceiver(self.population, self.rng)
        count = self.options.users - 1
        accepted, rate, outcomes = await self.stopped_then_drained(
            "all to one receiver", scenario, count
        )
        self.report.figure(
            Figure(
                f"Hot receiver drain, {count:,} transfers",
                f"{rate:,.0f}/s; {outcomes}; accept errors {accepted.error_text()}",
                f">= {TARGETS['hot_receiver']}/s",
                rate >= TARGETS["hot_receiver"]
                and set(outcomes) == {"SUCCESS"}
                and not accepted.errors(),
            )
        )

    async def hot_sender(self) -> None:
        scenario = HotSender(self.population, self.rng, self.funded_units)
        count = self.options.hot_sender_count
        accepted, rate, _ = await self.stopped_then_drained("one sender to many", scenario, count)
        exact = scenario.verify(self.stack.ledger, accepted)[0]
        self.report.figure(
            Figure(
                f"Hot sender drain, {count:,} transfers, funds for {self.funded_units:,}",
                f"{rate:,.0f}/s; {exact.measured}",
                f">= {TARGETS['hot_sender']}/s, exactly {self.funded_units:,} SUCCESS",
                rate >= TARGETS["hot_sender"] and exact.passed,
            )
        )

    async def opposite(self) -> None:
        options = self.options
        scenario = Opposite(self.population, self.rng)
        started = time.monotonic()
        async with self.driver(options.pair_clients) as driver:
            sent = await driver.closed_loop(
                self.batch(scenario, options.pair_count), clients=options.pair_clients
            )
        accepted = time.monotonic()
        settled = self.stack.ledger.wait_drained(timeout=120)
        rate = sent.ok / (settled - started)
        check = scenario.verify(self.stack.ledger, sent)[0]
        self.phase(
            f"opposite, {options.pair_clients} clients",
            f"{outcome_line(sent)} | all settled after {settled - started:.2f}s = "
            f"{rate:,.0f}/s end to end; {check.measured}",
            sent.ok,
        )
        self.report.figure(
            Figure(
                f"Opposite A<->B, {options.pair_clients} clients, workers running",
                f"{rate:,.0f}/s accepted and settled ({sent.ok / (accepted - started):,.0f}/s "
                f"accepted); errors {sent.error_text()}; {check.measured}",
                f"0 errors, >= {TARGETS['opposite']}/s",
                not sent.errors() and rate >= TARGETS["opposite"] and check.passed,
            )
        )

    async def replay(self) -> None:
        sender, receiver = self.population.crowd[1:3]
        first = Uniform(self.population, self.rng).transfer(sender, receiver, "1.00")

        def replayed(answer: Answer) -> str | None:
            if answer.status != 200 or answer.headers.get("Idempotent-Replayed") != "true":
                return f"not a replay: {answer.kind}"
            return None

        async with self.driver(self.options.clients) as driver:
            created = await driver.closed_loop([first], clients=1)
            copies = [replace(first, check=replayed) for _ in range(self.options.replays)]
            outcome: Tally = await driver.closed_loop(copies, clients=self.options.clients)
        self.phase("replay, one key", outcome_line(outcome), outcome.ok)
        all_replays = created.ok == 1 and outcome.ok == self.options.replays
        self.report.figure(
            Figure(
                "Replays of one key",
                f"{outcome.rate:,.0f}/s, p99 {ms(outcome.percentile(99))}; "
                f"{outcome.ok:,}/{self.options.replays:,} answered as replays; "
                f"errors {outcome.error_text()}",
                f">= {TARGETS['replay']:,}/s",
                outcome.rate >= TARGETS["replay"] and all_replays,
            )
        )

    async def run(self) -> bool:
        self.provision()
        self.stack.stop_workers()
        await self.accept()
        self.uniform_drain()
        await self.hot_receiver()
        await self.hot_sender()
        await self.opposite()
        await self.replay()
        self.stack.close()
        return audit(self.stack, self.report)


def main(argv=None) -> int:
    options = parse_args(argv)
    run_dir = ROOT / ".run" / "bench-pipeline"
    database_url, redis_url = local_urls(database=options.database, redis_db=options.redis_db)
    settings = {
        "SETTLEMENT_PARTITIONS": str(options.partitions),
        "SETTLEMENT_BATCH_SIZE": str(options.batch_size),
        "THROTTLE_TRANSFER": options.throttle,
    }
    stack = Stack(
        database_url=database_url, redis_url=redis_url, run_dir=run_dir, settings=settings,
        web_processes=options.web_processes, workers=options.workers,
        worker_concurrency=options.worker_concurrency,
    )  # fmt: skip
    report = Report("Transfer pipeline benchmark")
    report.setup |= {
        "Load generator": f"loadtests.driver in this process; {options.clients} closed-loop "
        f"clients; open loop at {options.paced_rate:.0f}/s for {options.paced_seconds:.0f}s, "
        "at most 256 in flight (the rest are dropped and counted)",
        "Errors": "every answer other than the expected one counts, by status and error code",
    }
    return benchmark(
        stack, report, command="make bench-pipeline", seconds=options.time_limit,
        phases=lambda: Bench(options, stack, report).run(), out=options.out,
        notes="pipeline-notes.md",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
