"""A steady load with sockets open, and what must hold after it: the shared core of
`make multihost` and `make rolling-restart`, which do something to the stack while it runs.

    steady = SteadyLoad(stack, users=300, sockets=10, rate=50, duration=120, run_dir=run_dir)
    outcome = run(steady.run(during=restart_each_process))  # during(): a coroutine
    steady.figures(report, outcome)   # accept, answers, 5xx, settled, sockets, POST -> socket

1. Users funded by staff deposits (loadtests/provision.py); then every socket user opens a
   socket (loadtests/sockets.py), which reconnects with `after_seq` whenever it drops.
2. An open loop of uniform payments at `rate` for `duration` seconds, the socket users paying
   beside it (`rate/20`, 1-10/s) and timing POST -> `transfer.updated` on their sockets, and
   `during()` at the same time.
3. Everything settles (bounded); every socket pings, so it has been sent all its user's stored
   events, and its last seq is compared with the stored one.

The figures it writes are the promises: every request answered as expected (no 5xx, no
request without an answer), every accepted transfer settled exactly once (accepted keys =
stored transfers, none PENDING), every socket stream without gap or duplicate and caught up
with the database.
"""

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.data import Population, TokenKeeper
from loadtests.driver import Driver, Request, Retries, Tally, percentile
from loadtests.history import History
from loadtests.provision import provision
from loadtests.report import Figure, Report, load_figures
from loadtests.scenarios import Mix, SocketPayers
from loadtests.shapes import RampThenConstant
from loadtests.sockets import Delivery, Socket, SocketTally, open_all, synced

DRAIN_TIMEOUT = 120.0


@dataclass
class Outcome:
    tally: Tally = field(default_factory=Tally)
    socket_ops: Tally = field(default_factory=Tally)
    sockets: SocketTally = field(default_factory=SocketTally)
    socket_accepted: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # POST -> SUCCESS on the socket
    behind: list[str] = field(default_factory=list)  # sockets not at their stored seq
    stored: dict[str, int] = field(default_factory=dict)  # transfers by outcome, of the load
    accepted_keys: int = 0  # keys answered 202 (or their 200 replay after a retry)
    drained: str = ""  # why the wait for settlement failed ("" when it did not)
    load_started: float = 0.0  # wall clock
    load_ended: float = 0.0


class SteadyLoad:
    def __init__(
        self,
        stack,
        *,
        users: int,
        sockets: int,
        rate: float,
        duration: int,
        run_dir: Path,
        retries: Retries | None = None,
        request_timeout: float = 10.0,
        seed: int | None = None,
        history: History | None = None,
        log=print,
    ) -> None:
        self.stack, self.users, self.socket_users = stack, users, sockets
        self.rate, self.duration, self.run_dir = rate, duration, run_dir
        self.retries, self.request_timeout, self.seed, self.log = (
            retries or Retries(), request_timeout, seed, log,
        )  # fmt: skip
        self.history = history  # every request, answer and socket frame, when given
        self.shape = RampThenConstant(rate, duration, min(10.0, duration / 10))
        self.socket_rate = min(10.0, max(1.0, rate / 20))
        self.population: Population | None = None
        self.provision_seconds = 0.0

    async def run(self, during: Callable[[], Awaitable] | None = None) -> Outcome:
        outcome = Outcome()
        async with Driver(
            self.stack.base_url, request_timeout=self.request_timeout, retries=self.retries,
            history=self.history,
        ) as driver:  # fmt: skip
            population = await self._provision(driver)
            keeper = TokenKeeper(
                driver, population.wallets(), issued_at=population.issued_at,
                lifetime=population.access_lifetime,
            )  # fmt: skip
            refreshing = asyncio.create_task(keeper.keep())
            mix = Mix.parse("uniform", population, funded_units=0, seed=self.seed)
            delivery = Delivery()
            sockets = [
                Socket(driver, w, tally=outcome.sockets, on_event=delivery.on_event)
                for w in population.sockets
            ]
            await open_all(sockets)
            self.log(
                f"==> Load: uniform at {self.shape}; {len(sockets)} socket users paying "
                f"{self.socket_rate:g}/s together"
            )

            def accepted(transfer_id: str, request: Request) -> None:
                delivery.expect(transfer_id, request.due)
                outcome.socket_accepted.append(transfer_id)

            payers = SocketPayers(population, random.Random(self.seed), accepted)  # noqa: S311
            outcome.load_started = time.time()
            jobs = [
                driver.open_loop(mix.next_request, self.shape),
                driver.open_loop(
                    payers.next_request, RampThenConstant(self.socket_rate, self.duration)
                ),
            ]
            if during is not None:
                jobs.append(during())
            outcome.tally, outcome.socket_ops, *_ = await asyncio.gather(*jobs)
            outcome.load_ended = time.time()
            outcome.latencies = await delivery.wait(
                outcome.socket_accepted, timeout=self.request_timeout
            )
            await self._quiet(outcome, sockets)
            refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refreshing
        ledger = self.stack.ledger
        keys = [*(s.keys.prefix for s in mix.scenarios), payers.keys.prefix]
        for prefix in keys:
            for status, count in ledger.outcomes(key_prefix=prefix).items():
                outcome.stored[status] = outcome.stored.get(status, 0) + count
        outcome.accepted_keys = outcome.tally.ok + outcome.socket_ops.ok
        return outcome

    async def _provision(self, driver: Driver) -> Population:
        self.log(f"==> Provisioning {self.users:,} users through staff deposits")
        started = time.monotonic()
        users_file = self.run_dir / "users.json"
        await provision(
            driver, users=self.users, out=users_file, sockets=self.socket_users,
            env=self.stack.env, log=self.log,
        )  # fmt: skip
        self.provision_seconds = time.monotonic() - started
        self.population = Population.load(users_file)
        return self.population

    async def _quiet(self, outcome: Outcome, sockets: list[Socket]) -> None:
        """Everything settled (bounded); then each socket pings and must be at its user's
        stored latest seq (everything stored up to the pong's seq was sent before it)."""
        self.log("==> Waiting for the last transfers to settle")
        ledger = self.stack.ledger
        try:
            await asyncio.to_thread(ledger.wait_drained, timeout=DRAIN_TIMEOUT, poll=0.2)
        except TimeoutError as exc:
            outcome.drained = f"not settled within {DRAIN_TIMEOUT:g}s: {exc}"
        await asyncio.gather(*(synced(s) for s in sockets))
        stored = ledger.latest_seqs([s.wallet.email for s in sockets])
        outcome.behind = [
            f"{s.wallet.email}: socket at {s.last_seq}, stored {stored.get(s.wallet.email)}"
            for s in sockets
            if s.last_seq != stored.get(s.wallet.email)
        ]
        await asyncio.gather(*(s.close() for s in sockets))

    def figures(self, report: Report, outcome: Outcome) -> list[str]:
        """Writes the load's figures; returns the problems (each fails the command)."""
        problems = []
        tally = outcome.tally
        p50, p99 = (tally.percentile(p) * 1000 for p in (50, 99))
        failed = tally.sent - tally.ok + outcome.socket_ops.sent - outcome.socket_ops.ok
        report.figure(
            Figure(
                "Requests",
                f"offered {tally.offered_rate:,.1f}/s, achieved {tally.rate:,.1f}/s answered "
                f"as expected; p50 {p50:.0f} ms, p99 {p99:.0f} ms; {failed:,} of "
                f"{tally.sent + outcome.socket_ops.sent:,} not answered as expected; "
                f"{tally.retries + outcome.socket_ops.retries:,} retries",
                "every request answered as expected",
                failed == 0 and not tally.dropped,
            )
        )
        if failed or tally.dropped:
            problems.append(f"{failed} requests not answered as expected, {tally.dropped} dropped")
        load_figures(report, tally, max_in_flight=512)
        for kind, count in (tally.server_errors + outcome.socket_ops.server_errors).items():
            problems.append(f"5xx answers: {kind} x{count}")
        stored = sum(outcome.stored.values())
        pending = outcome.stored.get("PENDING", 0)
        exact = stored == outcome.accepted_keys and not pending and not outcome.drained
        report.figure(
            Figure(
                "Accepted -> settled",
                f"{outcome.accepted_keys:,} keys accepted, {stored:,} transfers stored: "
                f"{outcome.stored}" + (f"; {outcome.drained}" if outcome.drained else ""),
                "each accepted key stored once, none PENDING",
                exact,
            )
        )
        if not exact:
            problems.append(f"accepted {outcome.accepted_keys}, stored {outcome.stored}")
        sockets = outcome.sockets
        streams = (
            f"{sockets.events:,} events, {sockets.gaps} gaps, {sockets.duplicates} duplicates; "
            f"{sockets.opened} opened, {sockets.reconnects} reconnects, server closes "
            f"{dict(sockets.closes) or 'none'}; "
            + (f"behind the database: {outcome.behind}" if outcome.behind else "every socket "
               "at its user's stored latest seq after the final ping")
        )  # fmt: skip
        clean = not sockets.gaps and not sockets.duplicates and not outcome.behind
        report.figure(Figure("Socket streams", streams, "0 gaps, 0 duplicates, caught up", clean))
        if not clean:
            problems.append(f"socket streams: {streams}")
        sent, latencies = len(outcome.socket_accepted), outcome.latencies
        if latencies:
            late = sum(v > 1 for v in latencies) + sent - len(latencies)
            report.figure(
                Figure(
                    "POST -> transfer.updated SUCCESS on the socket",
                    f"{sent:,} transfers, {sent - len(latencies):,} not delivered; p50 "
                    f"{percentile(latencies, 50) * 1000:.0f} ms, p99 "
                    f"{percentile(latencies, 99) * 1000:.0f} ms; {late:,} over 1 s",
                )
            )
        else:
            problems.append("the socket users measured nothing")
        return problems
