"""Benchmark of realtime delivery (`make bench-realtime`): the real stack on this machine's
cores with the load generator: gunicorn serving REST, uvicorn serving the sockets (as the
Procfile runs them), a Celery worker with beat, PostgreSQL and Redis.

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
Every socket checks every message it gets: a seq that is not last+1 is a gap (or, when not
above the last, a duplicate). Then `ledger_audit`, whose failure fails the run.

Run: .venv/bin/python -m loadtests.bench_realtime --help
"""

import argparse
import asyncio
import json
import random
import resource
import socket as net
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import aiohttp
import psycopg2
import redis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from loadtests import scenarios
from loadtests.client import Client, json_request
from loadtests.cpu import CpuMeter
from loadtests.harness import bench_run, ledger_audit_figure
from loadtests.report import Figure, Report, machine
from loadtests.stack import HOST, ROOT, Process, ServerConfig, Stack

TARGETS = {"p50_ms": 25, "p99_ms": 150, "fanout_rate": 2_000, "fanout_p99_ms": 100}
TICKET_PATH = "/api/realtime/ticket/"
EVENT_TYPES = ("transfer.updated", "balance.updated")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--latency-users", type=int, default=200, help="users with one socket each (200)")
    add("--search-rates", default="25,50,100,200,300,400,600,800", help="open-loop rates tried")
    add("--search-seconds", type=float, default=5, help="seconds per search rate (5)")
    add("--measure-seconds", type=float, default=10, help="seconds per latency rate (10)")
    add("--fanout-users", type=int, default=250, help="users of the fan-out pool (250)")
    add("--sockets-per-user", type=int, default=4, help="sockets per fan-out user (4)")
    add("--fanout-rate", type=float, default=200, help="transfers/s in the fan-out (200)")
    add("--fanout-seconds", type=float, default=10, help="seconds of fan-out load (10)")
    add("--burst-transfers", type=int, default=1_500, help="backlog of the fan-out burst")
    add("--reconnect-rate", type=float, default=100, help="transfers/s while reconnecting")
    add("--reconnect-seconds", type=float, default=10, help="seconds of forced reconnects")
    add("--reconnects-per-second", type=float, default=40, help="forced reconnects per second")
    add("--web-processes", type=int, default=4, help="gunicorn sync workers (4, as bench-pipeline)")
    add("--ws-server", choices=["uvicorn", "daphne"], default="uvicorn")
    add("--worker-concurrency", type=int, default=2, help="Celery prefork children (2)")
    add("--database", default="vaultpay_rt_bench", help="dropped and recreated")
    add("--redis-db", type=int, default=3, help="Redis database number, flushed")
    add("--time-limit", type=int, default=720, help="seconds before the run is aborted")
    add("--seed", type=int, default=2026)
    add("--out", type=Path, default=ROOT / "loadtests/results/realtime.md")
    return parser.parse_args()


def port_open(port: int) -> bool:
    with net.socket() as probe:
        return probe.connect_ex((HOST, port)) == 0


def port_free_in(first: int, last: int) -> int:
    for port in range(first, last + 1):
        if not port_open(port):
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def ms(values: list[float]) -> str:
    return " / ".join(f"{percentile(values, p) * 1000:.1f}" for p in (50, 95, 99))


def _wall(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


@dataclass
class Tally:
    """What every socket saw, across its reconnections."""

    events: int = 0
    gaps: int = 0  # seqs skipped
    duplicates: int = 0
    closes: Counter = field(default_factory=Counter)  # server close codes


class Socket:
    """One client's socket of one user. It keeps the last seq it saw; `reopen()` closes it
    and connects again with `after_seq`, as a client that lost its connection would."""

    def __init__(self, bench: "Bench", user: scenarios.User) -> None:
        self.bench, self.user = bench, user
        self.last_seq: int | None = None
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.pong: asyncio.Future | None = None
        self.hello: asyncio.Future | None = None

    async def open(self) -> None:
        ticket = await self.bench.http.fetch_json(
            json_request("POST", TICKET_PATH, self.user.token), expect=200
        )
        url = f"{ticket['url']}?ticket={ticket['ticket']}"
        if self.last_seq is not None:
            url += f"&after_seq={self.last_seq}"
        self.hello = asyncio.get_running_loop().create_future()
        self.ws = await connect(url, open_timeout=60, max_queue=None, compression=None)
        self.reader = asyncio.create_task(self._read(self.ws))
        await asyncio.wait_for(self.hello, 60)

    async def reopen(self) -> None:
        ws, reader = self.ws, self.reader
        self.ws = None
        await ws.close()
        await reader
        await self.open()

    async def _read(self, ws) -> None:
        tally = self.bench.tally
        try:
            async for raw in ws:
                now, wall = time.perf_counter(), time.time()
                message = json.loads(raw)
                kind = message["type"]
                if kind == "hello":
                    if self.last_seq is None:
                        self.last_seq = message["seq"]
                    self.hello.set_result(None)
                    continue
                if kind == "pong":
                    if message["seq"] != self.last_seq:
                        tally.gaps += abs(message["seq"] - self.last_seq)
                    if self.pong is not None and not self.pong.done():
                        self.pong.set_result(message["seq"])
                    continue
                seq = message["seq"]
                if seq <= self.last_seq:
                    tally.duplicates += 1
                    continue
                tally.gaps += seq - self.last_seq - 1
                tally.events += 1
                self.last_seq = seq
                self.bench.on_event(self, message, now, wall)
        except ConnectionClosed:
            pass
        if ws is self.ws:  # closed by the server, not by reopen()
            code = ws.close_code
            tally.closes[code] += 1
            if code not in (1000, 1001, None) and not self.bench.stopping:
                await self.open()

    async def sync(self) -> int:
        """Ping; the pong comes after everything stored up to its seq."""
        self.pong = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"type": "ping"}))
        return await asyncio.wait_for(self.pong, 60)

    async def close(self) -> None:
        ws, self.ws = self.ws, None
        if ws is not None:
            await ws.close()
            await self.reader


class Bench:
    def __init__(self, options: argparse.Namespace, stack: Stack, report: Report) -> None:
        self.options, self.stack, self.report = options, stack, report
        self.rng = random.Random(options.seed)  # noqa: S311 - reproducible load, not secrets
        self.keys = scenarios.Keys()
        self.meter = CpuMeter(stack.sessions, options.database)
        self.tally = Tally()
        self.stopping = False
        # Per transfer id: when its POST was due, and when its SUCCESS reached the sender.
        self.due: dict[str, float] = {}
        self.arrived: dict[str, float] = {}
        self.failed: Counter = Counter()
        self.delays: list[float] | None = None  # fan-out: settle timestamp -> delivery
        self.fanout_times: list[float] = []
        self.meter.start()

    def phase(self, name: str, line: str) -> None:
        self.report.phase(name, f"{line}; other processes {self.meter.foreign_share():.0%}")
        self.meter.start()

    def on_event(self, socket: Socket, message: dict, now: float, wall: float) -> None:
        if self.delays is not None:
            self.fanout_times.append(now)
            stamp = (
                message["transfer"]["settled_at"]
                if message["type"] == "transfer.updated"
                else message["balance"]["updated_at"]
            )
            self.delays.append(wall - _wall(stamp))
        if message["type"] != "transfer.updated":
            return
        transfer = message["transfer"]
        if transfer["sender"]["email"] != socket.user.email:
            return
        if transfer["status"] == "SUCCESS":
            self.arrived.setdefault(transfer["id"], now)
        else:
            self.failed[transfer["failure_code"]] += 1

    # Setup ----------------------------------------------------------------------------------

    async def setup(self) -> None:
        started = time.monotonic()
        options = self.options
        self.latency_users = scenarios.users_of(
            self.stack.provision(prefix="lat", users=options.latency_users, balance="10000.00")
        )
        self.fanout_users = scenarios.users_of(
            self.stack.provision(prefix="fan", users=options.fanout_users, balance="10000.00")
        )
        self.phase(
            "provision",
            f"{len(self.latency_users) + len(self.fanout_users):,} users funded, tokens issued "
            f"in {time.monotonic() - started:.1f}s",
        )
        started = time.monotonic()
        self.latency_sockets = await self.open_all([Socket(self, u) for u in self.latency_users])
        fan = [Socket(self, u) for u in self.fanout_users for _ in range(options.sockets_per_user)]
        self.fanout_sockets = await self.open_all(fan)
        total = len(self.latency_sockets) + len(self.fanout_sockets)
        self.phase(
            "connect",
            f"{total:,} sockets open ({len(self.latency_sockets)} latency, "
            f"{len(self.fanout_sockets)} fan-out) in {time.monotonic() - started:.1f}s",
        )

    async def open_all(self, sockets: list[Socket], parallel: int = 50) -> list[Socket]:
        gate = asyncio.Semaphore(parallel)

        async def one(socket: Socket) -> None:
            async with gate:
                await socket.open()

        await asyncio.gather(*(one(s) for s in sockets))
        return sockets

    # Load -------------------------------------------------------------------------------------

    async def load(self, users: list[scenarios.User], rate: float, seconds: float) -> dict:
        """Open loop: transfer i is due at start + i / rate, between random distinct users of
        `users`; at most 256 unanswered (the rest are dropped and counted)."""
        count = int(rate * seconds)
        requests = []
        for _ in range(count):
            sender, receiver = self.rng.sample(users, 2)
            requests.append(scenarios.transfer(sender, receiver, "1.00", self.keys.next("rt")))
        outcome = {"accepted": [], "errors": Counter(), "dropped": 0}
        in_flight: set[asyncio.Task] = set()

        async def post(request, due: float) -> None:
            try:
                status, _, body = await self.http.fetch(request)
            except (aiohttp.ClientError, TimeoutError) as exc:
                outcome["errors"][type(exc).__name__] += 1
                return
            if status != 202:
                outcome["errors"][str(status)] += 1
                return
            transfer_id = json.loads(body)["id"]
            self.due[transfer_id] = due
            outcome["accepted"].append(transfer_id)

        start = time.perf_counter()
        for i, request in enumerate(requests):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(in_flight) >= 256:
                outcome["dropped"] += 1
                continue
            task = asyncio.create_task(post(request, due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        while in_flight:
            await asyncio.gather(*list(in_flight))
        outcome["elapsed"] = time.perf_counter() - start
        return outcome

    async def delivered(self, ids: list[str], timeout: float) -> list[float]:
        """Waits until every id's SUCCESS reached its sender's socket (or `timeout`);
        returns the latencies of those that did."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and not all(i in self.arrived for i in ids):
            await asyncio.sleep(0.05)
        return [self.arrived[i] - self.due[i] for i in ids if i in self.arrived]

    async def latency_run(self, rate: float, seconds: float) -> tuple[dict, list[float]]:
        outcome = await self.load(self.latency_users, rate, seconds)
        latencies = await self.delivered(outcome["accepted"], timeout=30)
        outcome["missing"] = len(outcome["accepted"]) - len(latencies)
        outcome["rate"] = len(outcome["accepted"]) / outcome["elapsed"]
        return outcome, latencies

    def latency_line(self, rate: float, outcome: dict, latencies: list[float]) -> str:
        errors = ", ".join(f"{k} x{v}" for k, v in outcome["errors"].items()) or "none"
        return (
            f"offered {rate:.0f}/s; accepted {len(outcome['accepted']):,} = "
            f"{outcome['rate']:.0f}/s; SUCCESS on the sender's socket p50/p95/p99 "
            f"{ms(latencies)} ms; not delivered {outcome['missing']}; errors {errors}; "
            f"dropped {outcome['dropped']}"
        )

    async def search(self) -> float:
        sustained = 0.0
        for rate in (float(r) for r in self.options.search_rates.split(",")):
            outcome, latencies = await self.latency_run(rate, self.options.search_seconds)
            self.phase(f"search, {rate:.0f}/s", self.latency_line(rate, outcome, latencies))
            kept_up = (
                not outcome["errors"]
                and not outcome["dropped"]
                and not outcome["missing"]
                and outcome["rate"] >= 0.95 * rate
            )
            if not kept_up:
                break
            sustained = rate
            await self.settle_down()
        await self.settle_down()
        return sustained

    async def settle_down(self) -> None:
        """Lets the pipeline drain before the next measurement."""
        await asyncio.to_thread(self.stack.wait_drained, timeout=120)
        await asyncio.sleep(1)

    async def latency(self, sustained: float) -> None:
        rates = [("50/s", 50.0)]
        if sustained:
            rates += [("half the sustained rate", sustained / 2), ("the sustained rate", sustained)]
        for label, rate in rates:
            outcome, latencies = await self.latency_run(rate, self.options.measure_seconds)
            self.phase(f"latency, {rate:.0f}/s", self.latency_line(rate, outcome, latencies))
            p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
            clean = not outcome["errors"] and not outcome["dropped"] and not outcome["missing"]
            target = label == "half the sustained rate"
            self.report.figure(
                Figure(
                    f"POST -> transfer.updated SUCCESS on the sender's socket, {label} "
                    f"({rate:.0f}/s offered)",
                    f"p50 {p50:.1f} ms, p95 {percentile(latencies, 95) * 1000:.1f} ms, "
                    f"p99 {p99:.1f} ms over {len(latencies):,} transfers; "
                    f"accepted {outcome['rate']:.0f}/s; not delivered {outcome['missing']}",
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
        outcome = await self.load(self.fanout_users, options.fanout_rate, options.fanout_seconds)
        await self.delivered(outcome["accepted"], timeout=30)
        await self._fanout_report(
            "steady",
            f"{options.fanout_rate:.0f} transfers/s offered, "
            f"{len(outcome['accepted']) / outcome['elapsed']:.0f}/s accepted",
            before,
            f"errors {dict(outcome['errors']) or 'none'}, dropped {outcome['dropped']}",
        )

    async def fanout_burst(self) -> None:
        """Capacity: a backlog accepted with the workers stopped, then settled at once (the
        settlement rate, far above what the accept path sustains here)."""
        options = self.options
        await asyncio.to_thread(self.stack.workers_stop)
        requests = []
        for _ in range(options.burst_transfers):
            sender, receiver = self.rng.sample(self.fanout_users, 2)
            requests.append(scenarios.transfer(sender, receiver, "1.00", self.keys.next("fb")))
        accepted = await self.http.closed_loop(requests, clients=32)
        self.delays, self.fanout_times = [], []
        before = self.tally.events
        await asyncio.to_thread(self.stack.workers_start, concurrency=options.worker_concurrency)
        await self._fanout_report(
            "burst", f"a backlog of {accepted.ok:,} transfers settled at once", before, ""
        )

    async def _fanout_report(self, name: str, label: str, before: int, extra: str) -> None:
        sockets = self.fanout_sockets
        await asyncio.to_thread(self.stack.wait_drained, timeout=120)
        await asyncio.gather(*(s.sync() for s in sockets))
        delays, times = self.delays, self.fanout_times
        self.delays = None
        count = self.tally.events - before
        span = (max(times) - min(times)) if len(times) > 1 else float("nan")
        rate = len(times) / span if span else 0.0
        p99 = percentile(delays, 99) * 1000
        self.phase(
            f"fan-out {name}, {len(sockets):,} sockets",
            f"{label}: {count:,} messages in {span:.2f}s = {rate:,.0f} messages/s; "
            f"settle-to-delivery p50/p95/p99 {ms(delays)} ms" + (f"; {extra}" if extra else ""),
        )
        self.report.figure(
            Figure(
                f"Fan-out: {len(sockets):,} sockets ({len(self.fanout_users)} users x "
                f"{self.options.sockets_per_user}), {label}",
                f"{rate:,.0f} messages/s delivered ({count:,} in {span:.2f}s); "
                f"commit-to-delivery p50 {percentile(delays, 50) * 1000:.1f} ms, "
                f"p95 {percentile(delays, 95) * 1000:.1f} ms, p99 {p99:.1f} ms "
                "(from the settling transaction's timestamp, taken before its commit)",
                f">= {TARGETS['fanout_rate']:,} messages/s, p99 <= {TARGETS['fanout_p99_ms']} ms",
                rate >= TARGETS["fanout_rate"] and p99 <= TARGETS["fanout_p99_ms"],
            )
        )

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
        outcome = await self.load(
            self.latency_users, options.reconnect_rate, options.reconnect_seconds
        )
        stop.set()
        await churning
        await asyncio.to_thread(self.stack.wait_drained, timeout=120)
        latest = await asyncio.gather(*(s.sync() for s in sockets))
        stored = self.stored_latest([s.user.email for s in sockets])
        behind = sum(
            1 for s, seq in zip(sockets, latest, strict=True) if seq != stored[s.user.email]
        )
        new_gaps, new_dups = self.tally.gaps - gaps, self.tally.duplicates - duplicates
        self.phase(
            "reconnect",
            f"{reopened:,} forced reconnects of {len(sockets)} sockets while "
            f"{len(outcome['accepted']):,} transfers settled; gaps {new_gaps}, duplicates "
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

    def stored_latest(self, emails: list[str]) -> dict[str, int]:
        with self.stack.observer().cursor() as cursor:
            cursor.execute(
                "SELECT u.email, a.last_seq FROM accounts_account a "
                "JOIN users_user u ON u.id = a.user_id WHERE u.email = ANY(%s)",
                [emails],
            )
            return dict(cursor.fetchall())

    def audit(self) -> bool:
        text, clean = ledger_audit_figure(self.stack, self.report)
        self.phase("ledger_audit", text)
        return clean

    async def run(self) -> bool:
        async with Client(self.stack.base_url, connections=300) as self.http:
            await self.setup()
            sustained = await self.search()
            await self.latency(sustained)
            await self.fanout()
            await self.fanout_burst()
            await self.reconnects()
            all_sockets = self.latency_sockets + self.fanout_sockets
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
            self.stopping = True
            await asyncio.gather(*(s.close() for s in all_sockets))
        self.stack.close()
        return self.audit()


def ws_command(kind: str, port: int) -> list[str]:
    if kind == "daphne":
        return [
            sys.executable, "-m", "daphne", "-b", HOST, "-p", str(port), "--verbosity", "0",
            "api.config.asgi:application",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "uvicorn", "api.config.asgi:application", "--host", HOST,
        "--port", str(port), "--lifespan", "off", "--no-access-log",
    ]  # fmt: skip


def ws_start(stack: Stack, kind: str, port: int) -> None:
    """The Procfile's `ws` process; stopped with the web processes."""
    log = stack.run_dir / f"ws-{kind}.log"
    process = Process("ws", ws_command(kind, port), stack.env, log)
    stack.web.append(process)
    deadline = time.monotonic() + 60
    while not port_open(port):
        if not process.alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the WebSocket server did not start; see {log}")
        time.sleep(0.1)


def setup(options: argparse.Namespace, stack: Stack, report: Report, ws_port: int) -> None:
    with psycopg2.connect(stack.database_url) as conn, conn.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    redis_version = redis.Redis.from_url(stack.redis_url).info("server")["redis_version"]
    report.setup.update(machine())
    report.setup.update(
        {
            "PostgreSQL": f"{pg_version} on 127.0.0.1:5432, database `{options.database}` "
            "(dropped and recreated)",
            "Redis": f"{redis_version} on 127.0.0.1:6379, database {options.redis_db} (flushed); "
            "channel layer channels_redis (capacity 2,000, expiry 10 s)",
            "REST": f"gunicorn sync -w {options.web_processes} on port {stack.port}",
            "WebSockets": f"{options.ws_server}, one process, on port {ws_port} "
            "(the Procfile's `ws`)",
            "Workers": f"1 Celery worker, prefork --concurrency {options.worker_concurrency}, "
            "and Celery beat; SETTLEMENT_PARTITIONS=16, SETTLEMENT_BATCH_SIZE=500",
            "Load generator": "this process: aiohttp (REST) and websockets (sockets) on one "
            "uvloop event loop; open loops of 1.00 transfers between random distinct users",
            "Sockets": f"latency pool {options.latency_users} users x 1 socket; fan-out pool "
            f"{options.fanout_users} users x {options.sockets_per_user} sockets",
        }
    )


def main() -> int:
    options = parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # thousands of sockets, both ends
    run_dir = ROOT / ".run" / "bench-realtime"
    run_dir.mkdir(parents=True, exist_ok=True)
    for log in run_dir.glob("*.log"):
        log.unlink()
    web_port = port_free_in(8100, 8149)
    ws_port = port_free_in(8150, 8199)
    stack = Stack(
        database=options.database,
        redis_db=options.redis_db,
        run_dir=run_dir,
        settings_env={
            "PORT": str(web_port),
            "WS_PORT": str(ws_port),
            "THROTTLE_TRANSFER": "5000/s",
            "THROTTLE_TICKET": "5000/s",
            "THROTTLE_USER": "100000/min",
        },
    )
    stack.port = web_port
    report = Report("Realtime delivery benchmark")
    report.notes += [
        "Written by `make bench-realtime`; rerunning overwrites it. What the profiles found "
        "and the remaining gap: `realtime-notes.md`.",
        "`other processes` is the share of the machine that processes outside the benchmark "
        "took during a phase; every figure shares the same two cores with it.",
    ]

    def prepare() -> None:
        setup(options, stack, report, ws_port)
        stack.web_start(ServerConfig("gunicorn", options.web_processes))
        ws_start(stack, options.ws_server, ws_port)
        stack.workers_start(concurrency=options.worker_concurrency)

    return bench_run(
        stack=stack,
        report=report,
        out=options.out,
        time_limit=options.time_limit,
        prepare=prepare,
        phases=lambda: Bench(options, stack, report).run(),
    )


if __name__ == "__main__":
    sys.exit(main())
