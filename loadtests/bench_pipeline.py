"""Benchmark of the transfer pipeline (`make bench-pipeline`): the real HTTP API, PostgreSQL,
Redis and Celery workers, all on this machine's cores with the load generator.

Phases, each printing its figures as it goes:
  accept     workers stopped; per web server: a closed loop at capacity, then an open loop
             at the target rate. The transfers accepted here are the uniform backlog.
  uniform    workers started: time to settle that backlog (random pairs of all users).
  hot-recv   workers stopped, every user pays one receiver, workers started: drain time.
  hot-send   the same for one sender paying many, sized so an exact count must succeed.
  opposite   workers running: A->B and B->A at once, many clients each way, until settled.
  replay     one key sent again and again: every answer must be the replay.
Then `ledger_audit`, whose failure fails the run, and the report.

Run: .venv/bin/python -m loadtests.bench_pipeline --help
"""

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

import psycopg2
import redis

from loadtests import scenarios
from loadtests.client import Client, Outcome
from loadtests.cost import CostMeter
from loadtests.cpu import CpuMeter
from loadtests.harness import bench_run, ledger_audit_figure
from loadtests.report import Figure, Report, machine, outcome_line
from loadtests.stack import ROOT, ServerConfig, Stack

MAX_RATE = 3_000  # requests/s, far above what two cores serve
TARGETS = {
    "accept_rate": 800,
    "accept_p99_ms": 50,
    "uniform": 1_000,
    "hot_receiver": 300,
    "hot_sender": 200,
    "opposite": 300,
    "replay": 2_000,
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--users", type=int, default=10_000, help="uniform population (default 10,000)")
    add("--backlog", type=int, default=20_000, help="uniform transfers, split among servers")
    add(
        "--servers",
        default="uvicorn:1,gunicorn:4",
        help="web servers to compare at accept, KIND:PROCESSES,...; the last one serves the "
        "other phases (default uvicorn:1,gunicorn:4)",
    )
    add("--clients", type=int, default=32, help="closed-loop clients (default 32)")
    add(
        "--compare-seconds",
        type=float,
        default=10,
        help="capacity run of each server but the last (default 10 s)",
    )
    add("--paced-rate", type=float, default=800, help="open-loop accept rate (default 800/s)")
    add("--paced-seconds", type=float, default=5, help="open-loop duration (default 5 s)")
    add("--worker-concurrency", type=int, default=2, help="Celery prefork children")
    add("--partitions", type=int, default=16, help="SETTLEMENT_PARTITIONS")
    add("--batch-size", type=int, default=500, help="SETTLEMENT_BATCH_SIZE")
    add(
        "--throttle",
        default="5000/s",
        help="THROTTLE_TRANSFER; high enough that one sender is never throttled (hot sender, "
        "replays); a one-second window keeps DRF's per-request history list short",
    )
    add("--hot-sender-count", type=int, default=3_000, help="transfers of the hot sender")
    add("--pair-count", type=int, default=3_000, help="transfers each way, A<->B")
    add("--pair-clients", type=int, default=40, help="clients each way, A<->B")
    add("--replays", type=int, default=5_000, help="replays of one key")
    add("--database", default="vaultpay_bench", help="dropped and recreated")
    add("--redis-db", type=int, default=7, help="Redis database number, flushed")
    add("--time-limit", type=int, default=840, help="seconds before the run is aborted")
    add("--seed", type=int, default=2026)
    add("--out", type=Path, default=ROOT / "loadtests/results/pipeline.md")
    return parser.parse_args()


class Bench:
    def __init__(self, options: argparse.Namespace, stack: Stack, report: Report) -> None:
        self.options = options
        self.stack = stack
        self.report = report
        self.rng = random.Random(options.seed)  # noqa: S311 - reproducible load, not secrets
        self.keys = scenarios.Keys()
        self.servers = servers_of(options)
        self.meter = CpuMeter(stack.sessions, options.database)
        self.cost = CostMeter(stack)
        self.measure()

    def measure(self) -> None:
        """Starts measuring the CPU of the next phase."""
        self.meter.start()
        self.cost.start()

    def phase(self, name: str, line: str, requests: int = 0) -> None:
        """Reports a phase's figures with the share of the machine other processes took
        meanwhile and, given the phase's number of requests (or transfers), the CPU each part
        of the stack spent per request; then starts measuring the next phase."""
        cost = f"; {self.cost.per_request(requests)}" if requests else ""
        share = self.meter.foreign_share()
        self.report.phase(name, f"{line}{cost}; other processes {share:.0%}")
        self.measure()

    def client(self) -> Client:
        # Enough connections for the widest phase (both directions of A<->B).
        connections = max(self.options.clients, 2 * self.options.pair_clients)
        return Client(self.stack.base_url, connections=connections)

    # Setup ----------------------------------------------------------------------------------

    def provision(self) -> None:
        started = time.monotonic()
        self.users = scenarios.users_of(
            self.stack.provision(prefix="u", users=self.options.users, balance="1000.00")
        )
        # The hot sender can afford exactly half of its 1.00 transfers.
        self.hot_sender_expected = self.options.hot_sender_count // 2
        self.hot_sender_user = scenarios.users_of(
            self.stack.provision(prefix="hs", users=1, balance=f"{self.hot_sender_expected}.00")
        )[0]
        self.pair = scenarios.users_of(
            self.stack.provision(prefix="ab", users=2, balance="100000.00")
        )
        self.phase(
            "provision",
            f"{len(self.users) + 3:,} users with wallets, funded and settled, tokens issued "
            f"in {time.monotonic() - started:.1f}s",
        )

    # Phases ---------------------------------------------------------------------------------

    async def accept(self) -> None:
        """Workers stopped. Each server takes the paced load, then runs at capacity: every
        server but the last for --compare-seconds, the last until the uniform backlog holds
        --backlog transfers."""
        paced = int(self.options.paced_rate * self.options.paced_seconds)
        accepted = 0
        for config in self.servers:
            last = config is self.servers[-1]
            self.stack.web_start(config)
            async with self.client() as client:
                warm = [scenarios.balance(u) for u in self.users[:200]]
                await client.closed_loop(warm, clients=self.options.clients)
                self.measure()
                steady = await client.open_loop(
                    scenarios.uniform(self.users, paced, self.keys, self.rng),
                    rate=self.options.paced_rate,
                    max_in_flight=256,
                )
                self.phase(
                    f"accept, {config}, paced",
                    outcome_line(steady, offered=f"{self.options.paced_rate:.0f}/s open loop"),
                    steady.ok,
                )
                accepted += steady.ok
                # Without a count, more than any server here could take in the time allowed.
                count = (
                    self.options.backlog - accepted
                    if last
                    else int(self.options.compare_seconds * MAX_RATE)
                )
                capacity = await client.closed_loop(
                    scenarios.uniform(self.users, count, self.keys, self.rng),
                    clients=self.options.clients,
                    seconds=None if last else self.options.compare_seconds,
                )
                self.phase(
                    f"accept, {config}, capacity",
                    outcome_line(capacity, offered=f"{self.options.clients} clients"),
                    capacity.ok,
                )
                accepted += capacity.ok
            self._accept_figures(config, capacity, steady)
            if not last:
                self.stack.web_stop()

    def _accept_figures(self, config: ServerConfig, capacity: Outcome, steady: Outcome) -> None:
        rate, p99_ms = TARGETS["accept_rate"], TARGETS["accept_p99_ms"]
        clean = not steady.errors and not steady.dropped
        ms = {
            "capacity p50": capacity.percentile(50) * 1000,
            "capacity p99": capacity.percentile(99) * 1000,
            "p50": steady.percentile(50) * 1000,
            "p99": steady.percentile(99) * 1000,
        }
        self.report.figure(
            Figure(
                f"Accept, workers stopped, {config}",
                f"capacity {capacity.rate:,.0f}/s (p50 {ms['capacity p50']:.1f} ms, "
                f"p99 {ms['capacity p99']:.1f} ms); offered {self.options.paced_rate:.0f}/s "
                f"for {self.options.paced_seconds:.0f}s: {steady.rate:,.0f}/s, "
                f"p50 {ms['p50']:.1f} ms, p99 {ms['p99']:.1f} ms, "
                f"errors {steady.error_text()}, dropped {steady.dropped}",
                f">= {rate}/s with p99 <= {p99_ms} ms",
                clean and steady.rate >= 0.98 * rate and ms["p99"] <= p99_ms,
            )
        )

    async def drain(self, name: str, key_tag: str) -> float:
        """Starts the workers on the PENDING backlog and times it to zero."""
        backlog = self.stack.pending_count()
        ready = self.stack.workers_start(concurrency=self.options.worker_concurrency)
        self.measure()
        seconds = self.stack.wait_drained(timeout=300) - ready
        rate = backlog / seconds
        outcomes = self.stack.outcomes(key_prefix=f"{key_tag}-")
        self.phase(
            f"drain, {name}",
            f"{backlog:,} PENDING settled in {seconds:.2f}s = {rate:,.0f}/s; outcomes {outcomes}",
            backlog,
        )
        return rate

    async def uniform_drain(self) -> None:
        rate = await self.drain("uniform", "u")
        outcomes = self.stack.outcomes(key_prefix="u-")
        self.report.figure(
            Figure(
                f"Uniform drain, {sum(outcomes.values()):,} over {len(self.users):,} accounts",
                f"{rate:,.0f}/s; {outcomes}",
                f">= {TARGETS['uniform']:,}/s, all SUCCESS",
                rate >= TARGETS["uniform"] and set(outcomes) == {"SUCCESS"},
            )
        )

    async def hot_receiver(self) -> None:
        self.stack.workers_stop()
        receiver = self.users[0]
        async with self.client() as client:
            before = await client.fetch_json(scenarios.balance(receiver))
            accepted = await client.closed_loop(
                scenarios.hot_receiver(self.users, receiver, self.keys),
                clients=self.options.clients,
            )
            self.phase("accept, all to one receiver", outcome_line(accepted), accepted.ok)
            rate = await self.drain("all to one receiver", "hr")
            after = await client.fetch_json(scenarios.balance(receiver))
        gained = _paise(after["balance"]) - _paise(before["balance"])
        expected = (len(self.users) - 1) * 100
        self.report.figure(
            Figure(
                f"Hot receiver drain, {len(self.users) - 1:,} senders",
                f"{rate:,.0f}/s; receiver gained {gained / 100:,.2f} "
                f"(expected {expected / 100:,.2f}); accept errors {accepted.error_text()}",
                f">= {TARGETS['hot_receiver']}/s",
                rate >= TARGETS["hot_receiver"] and gained == expected and not accepted.errors,
            )
        )

    async def hot_sender(self) -> None:
        self.stack.workers_stop()
        count = self.options.hot_sender_count
        async with self.client() as client:
            accepted = await client.closed_loop(
                scenarios.hot_sender(self.hot_sender_user, self.users, count, self.keys, self.rng),
                clients=self.options.clients,
            )
            self.phase("accept, one sender to many", outcome_line(accepted), accepted.ok)
            rate = await self.drain("one sender to many", "hs")
            after = await client.fetch_json(scenarios.balance(self.hot_sender_user))
        outcomes = self.stack.outcomes(key_prefix="hs-")
        expected = self.hot_sender_expected
        exact = (
            outcomes.get("SUCCESS") == expected
            and outcomes.get("insufficient_funds") == count - expected
            and after["balance"] == "0.00"
            and after["pending_out"] == "0.00"
        )
        self.report.figure(
            Figure(
                f"Hot sender drain, {count:,} transfers, funds for {expected:,}",
                f"{rate:,.0f}/s; {outcomes}; sender balance {after['balance']}; "
                f"exact count {'yes' if exact else 'NO'}",
                f">= {TARGETS['hot_sender']}/s, exactly {expected:,} SUCCESS",
                rate >= TARGETS["hot_sender"] and exact,
            )
        )

    async def opposite(self) -> None:
        a, b = self.pair
        n, clients = self.options.pair_count, self.options.pair_clients
        async with self.client() as client:
            started = time.monotonic()
            there, back = await asyncio.gather(
                client.closed_loop(scenarios.one_way(a, b, n, self.keys), clients=clients),
                client.closed_loop(scenarios.one_way(b, a, n, self.keys), clients=clients),
            )
            sent = time.monotonic()
            settled = self.stack.wait_drained(timeout=120)
            balances = [(await client.fetch_json(scenarios.balance(u)))["balance"] for u in (a, b)]
        outcomes = self.stack.outcomes(key_prefix="ab-")
        total, errors = there.ok + back.ok, there.errors + back.errors
        rate = total / (settled - started)
        self.phase(
            f"opposite, {clients} clients each way",
            f"A->B: {outcome_line(there)} | B->A: {outcome_line(back)} | "
            f"{total:,} accepted in {sent - started:.2f}s, all settled after "
            f"{settled - started:.2f}s = {rate:,.0f}/s end to end; {outcomes}; "
            f"balances A {balances[0]}, B {balances[1]}",
            total,
        )
        errors_text = ", ".join(f"{k} x{v}" for k, v in errors.items()) or "none"
        self.report.figure(
            Figure(
                f"Opposite A<->B, {clients} clients each way, workers running",
                f"{rate:,.0f}/s accepted and settled ({total / (sent - started):,.0f}/s "
                f"accepted); errors {errors_text}; {outcomes}",
                f"0 errors, >= {TARGETS['opposite']}/s",
                not errors
                and rate >= TARGETS["opposite"]
                and outcomes == {"SUCCESS": 2 * n}
                and balances == ["100000.00", "100000.00"],
            )
        )

    async def replay(self) -> None:
        sender, receiver = self.users[1], self.users[2]
        requests = list(scenarios.replays(sender, receiver, self.options.replays, self.keys))
        replayed = 0

        def count(request, headers, body) -> None:
            nonlocal replayed
            replayed += headers.get("Idempotent-Replayed") == "true"

        async with self.client() as client:
            first = await client.closed_loop(requests[:1], clients=1)
            outcome = await client.closed_loop(
                requests[1:], clients=self.options.clients, on_response=count
            )
        self.phase("replay, one key", outcome_line(outcome), outcome.ok)
        all_replays = first.ok == 1 and replayed == self.options.replays
        self.report.figure(
            Figure(
                "Replays of one key",
                f"{outcome.rate:,.0f}/s, p99 {outcome.percentile(99) * 1000:.1f} ms; "
                f"{replayed:,}/{self.options.replays:,} marked Idempotent-Replayed; "
                f"errors {outcome.error_text()}",
                f">= {TARGETS['replay']:,}/s",
                outcome.rate >= TARGETS["replay"] and all_replays and not outcome.errors,
            )
        )

    def audit(self) -> bool:
        text, clean = ledger_audit_figure(self.stack, self.report)
        self.phase("ledger_audit", text)
        return clean

    async def run(self) -> bool:
        self.provision()
        await self.accept()
        await self.uniform_drain()
        await self.hot_receiver()
        await self.hot_sender()
        await self.opposite()
        await self.replay()
        self.stack.close()
        return self.audit()


def servers_of(options: argparse.Namespace) -> list[ServerConfig]:
    return [
        ServerConfig(kind, int(processes))
        for kind, processes in (s.split(":") for s in options.servers.split(","))
    ]


def _paise(amount: str) -> int:
    rupees, _, fraction = amount.partition(".")
    return int(rupees) * 100 + int(fraction)


def setup(options: argparse.Namespace, stack: Stack, report: Report) -> None:
    with psycopg2.connect(stack.database_url) as conn, conn.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        sync_commit = cursor.fetchone()[0]
    redis_version = redis.Redis.from_url(stack.redis_url).info("server")["redis_version"]
    report.setup.update(machine())
    report.setup.update(
        {
            "PostgreSQL": f"{pg_version} on 127.0.0.1:5432, database `{options.database}` "
            f"(dropped and recreated), synchronous_commit={sync_commit}",
            "Redis": f"{redis_version} on 127.0.0.1:6379, database {options.redis_db} (flushed)",
            "Web servers at accept": ", ".join(str(s) for s in servers_of(options))
            + " (the last serves every later phase); Django local settings, DEBUG off, "
            "CONN_MAX_AGE 60",
            "Workers": f"1 Celery worker, prefork --concurrency {options.worker_concurrency}, "
            f"and Celery beat; SETTLEMENT_PARTITIONS={options.partitions}, "
            f"SETTLEMENT_BATCH_SIZE={options.batch_size}",
            "Throttle": f"THROTTLE_TRANSFER={options.throttle}",
            "Load generator": "this process: aiohttp on uvloop, one event loop, keep-alive "
            f"where the server allows it; {options.clients} closed-loop clients; open loop at "
            f"{options.paced_rate:.0f}/s for {options.paced_seconds:.0f}s, at most 256 in "
            "flight (the rest are dropped and counted)",
            "Errors": "every non-2xx answer (and any 2xx other than the expected one) counts, "
            "by status and error code",
        }
    )


def main() -> int:
    options = parse_args()
    run_dir = ROOT / ".run" / "bench-pipeline"
    run_dir.mkdir(parents=True, exist_ok=True)
    for log in run_dir.glob("*.log"):
        log.unlink()
    stack = Stack(
        database=options.database,
        redis_db=options.redis_db,
        run_dir=run_dir,
        settings_env={
            "SETTLEMENT_PARTITIONS": str(options.partitions),
            "SETTLEMENT_BATCH_SIZE": str(options.batch_size),
            "THROTTLE_TRANSFER": options.throttle,
        },
    )
    report = Report("Transfer pipeline benchmark")
    report.notes += [
        "Written by `make bench-pipeline`; rerunning overwrites it. What the profiles of "
        "these phases found, the fixes measured and the remaining gap: `pipeline-notes.md`.",
        "`other processes` is the share of the machine that processes outside the benchmark "
        "(another test suite, say) took during a phase; every figure shares the same two "
        "cores with it.",
    ]

    return bench_run(
        stack=stack,
        report=report,
        out=options.out,
        time_limit=options.time_limit,
        prepare=lambda: setup(options, stack, report),
        phases=lambda: Bench(options, stack, report).run(),
    )


if __name__ == "__main__":
    sys.exit(main())
