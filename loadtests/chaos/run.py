"""`make chaos` (`python -m loadtests.chaos`): faults under load, then the history checker.

1. Private servers (loadtests/servers.py): a PostgreSQL 15 cluster and a redis-server of
   the run's own, in `.run/chaos-<name>/`, on free ports.
2. The stack on them (loadtests/stack.py: the Procfile's web, ws, one Celery worker, beat)
   and provisioned users funded by staff deposits (loadtests/provision.py).
3. The open loop (loadtests/driver.py) at `--rate`: uniform payments, hot pairs paying both
   ways, replays of keys already sent (loadtests/chaos/load.py); every request without an
   answer or answered 503 `service_unavailable` is retried with the same key. Socket users
   keep a socket open each, reconnecting with `after_seq` whenever it drops. Every attempt,
   answer, absence and socket frame goes to `history.jsonl`.
4. Meanwhile the seeded schedule (loadtests/chaos/schedule.py) injects its faults, one at a
   time (loadtests/chaos/faults.py).
5. Quiet: the last operation has ended, nothing is PENDING, every socket has pinged; the
   stack stops. The checker (loadtests/chaos/checker.py) reads the whole history and the
   database; `ledger_audit` runs; the recovery time of each fault is computed
   (loadtests/chaos/recovery.py).
6. The report (loadtests/report.py), at `loadtests/results/chaos.md` for the full run.

Exit status 1 when a verdict fails, a fault did not recover within `RECOVERY_LIMIT` s, or a
process of the stack died while no fault was being injected.
Everything this run started is stopped at the end, on error, Ctrl-C and the time limit.
"""

import argparse
import asyncio
import dataclasses
import random
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from websockets.exceptions import InvalidHandshake

from loadtests.chaos import checker
from loadtests.chaos.faults import Faults
from loadtests.chaos.load import SHARES, chaos_mix
from loadtests.chaos.recorded import recorded
from loadtests.chaos.recovery import SHARE, STALE, WINDOW, Timeline, recovery_time
from loadtests.chaos.schedule import FAULTS, SHORT_FAULTS, Schedule, schedule
from loadtests.chaos.snapshot import snapshot
from loadtests.cpu import CpuMeter
from loadtests.data import Population
from loadtests.driver import Driver, Retries, Tally, run
from loadtests.history import History, read
from loadtests.provision import provision
from loadtests.report import Figure, Report, machine
from loadtests.servers import PrivateServers
from loadtests.shapes import RampThenConstant
from loadtests.sockets import Socket, SocketTally, synced
from loadtests.stack import ROOT, Stack, time_limit

RECOVERY_LIMIT = 30.0
SUSTAINED_RATE = 150  # transfers/s held for 10 minutes on this machine (loadtests/README.md)
DATABASE = "vaultpay_chaos"
# Backpressure engages within the 10 s outages (the default, 30 s, never would), so the
# checker sees it answer 503 overloaded and store nothing.
MAX_PENDING_AGE = 8
SETTINGS = {
    # Hot pairs and replays send many times a second per sender: throttles must not be what
    # the run measures (the socket users' reconnections take tickets too).
    "THROTTLE_TRANSFER": "100000/s",
    "THROTTLE_USER": "100000/s",
    "THROTTLE_LOGIN": "100000/min",
    "THROTTLE_TICKET": "100000/min",
    "MAX_PENDING_AGE": str(MAX_PENDING_AGE),
}
# A request is retried (same key, same body) until it gets an answer other than 503
# service_unavailable; a 503 overloaded is final (its key must then not exist).
RETRIES = Retries(attempts=1_000_000, codes=frozenset({"service_unavailable"}), max_wait=5.0)
# How long the open loop may run past its last due request: retries still waiting for the
# system to come back; past this the run is aborted (the system never came back).
LOAD_OVERRUN = 120.0
OPEN_ATTEMPTS = 5


@dataclass(frozen=True)
class Profile:
    rate: float
    users: int
    sockets: int
    faults: tuple[str, ...]
    warmup: float
    gap: float
    jitter: float
    tail: float
    quiet: float  # seconds to wait, after the load, for every transfer to settle


FULL = Profile(
    rate=100,
    users=400,
    sockets=50,
    faults=tuple(FAULTS),
    warmup=20,
    gap=45,
    jitter=5,
    tail=40,
    quiet=120,
)
# At most 90 s in all under `make test`: three faults, shorter pauses, a smaller crowd.
SHORT = Profile(
    rate=40,
    users=120,
    sockets=20,
    faults=SHORT_FAULTS,
    warmup=3,
    gap=11,
    jitter=2,
    tail=12,
    quiet=15,
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--short", action="store_true", help="the make test version: 3 faults, under 90 s")
    add("--seed", type=int, help="the fault schedule's seed (default: a random one, printed)")
    add("--rate", type=float, help="offered transfers/s (default 100; --short 40)")
    add("--users", type=int, help="wallet users (default 400; --short 120)")
    add("--sockets", type=int, help="users with a socket open (default 50; --short 20)")
    add("--name", help="run folder .run/chaos-<name> (default full or short)")
    add("--results", type=Path, help="report file (default loadtests/results/chaos.md; "
        "--short: the run folder)")  # fmt: skip
    add("--time-limit", type=int, help="hard bound of the whole run in seconds")
    options = parser.parse_args(argv)
    profile = SHORT if options.short else FULL
    options.profile = dataclasses.replace(
        profile,
        rate=options.rate or profile.rate,
        users=options.users or profile.users,
        sockets=options.sockets if options.sockets is not None else profile.sockets,
    )
    options.seed = options.seed if options.seed is not None else secrets.randbelow(10**6)
    options.name = options.name or ("short" if options.short else "full")
    options.run_dir = ROOT / ".run" / f"chaos-{options.name}"
    options.results = options.results or (
        options.run_dir / "chaos-short.md" if options.short else ROOT / "loadtests/results/chaos.md"
    )
    return options


@dataclass
class Injected:
    window: checker.FaultWindow
    detail: str


class ChaosRun:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.profile: Profile = options.profile
        self.schedule: Schedule = schedule(
            seed=options.seed,
            faults=self.profile.faults,
            warmup=self.profile.warmup,
            gap=self.profile.gap,
            jitter=self.profile.jitter,
            tail=self.profile.tail,
        )
        self.duration = self.schedule.duration
        self.report = Report("Fault run (make chaos)" + (", short" if options.short else ""))
        self.injected: list[Injected] = []
        self.injecting = False
        self.dead: list[str] = []  # stack processes that died while no fault was injected
        self.notes: list[str] = []
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        print(f"==> [{time.monotonic() - self.started:5.1f}s] {text}", flush=True)

    # The run --------------------------------------------------------------------------------

    def main(self) -> int:
        options, profile = self.options, self.profile
        self.say(f"Seed {options.seed}: {self.schedule.describe()}")
        self.say(
            f"Offered rate {profile.rate:g}/s for {self.duration:.0f}s: "
            f"{profile.rate / SUSTAINED_RATE:.0%} of the {SUSTAINED_RATE}/s the stack sustained "
            "for 10 minutes (loadtests/README.md, uniform-10min-150)"
        )
        history_path = options.run_dir / "history.jsonl"
        with PrivateServers(options.run_dir) as servers:
            self.servers = servers
            self.say(
                f"Private PostgreSQL on port {servers.postgres.port} (pid "
                f"{servers.postgres.pid}), Redis on port {servers.redis.port} (pid "
                f"{servers.redis.pid}), files in {options.run_dir}"
            )
            stack = Stack(
                database_url=servers.postgres.url(DATABASE),
                redis_url=servers.redis.url(0),
                run_dir=options.run_dir,
                settings=SETTINGS,
            )
            self.stack = stack
            with stack:
                self.say("Migrating and starting the stack")
                stack.reset()
                stack.start()
                self.say(f"Stack up at {stack.base_url} (sockets on port {stack.ws_port})")
                population = run(self.provision())
                meter = CpuMeter(stack)
                meter.start()
                with History(history_path) as history:
                    self.tally, self.sockets_tally = run(self.load(population, history))
                self.cpu = meter.read()
                # Quiet and settled: nothing left to stop warmly.
                for component in stack.components.values():
                    component.kill()
            self.say("Reading the history and the database")
            self.recorded = recorded(read(history_path))
            socket_users = [w.email for w in population.sockets]
            ledger = snapshot(servers.postgres.url(DATABASE), socket_users=socket_users)
            audit = stack.manage("ledger_audit", check=False)
            ledger.audit_ok = audit.returncode == 0
            ledger.audit_text = (audit.stdout + audit.stderr).strip()
        history = checker.History(
            self.recorded.attempts,
            self.recorded.sockets,
            [i.window for i in self.injected],
            max_pending_age=MAX_PENDING_AGE,
        )
        verdicts = checker.check(history, ledger)
        recoveries = self.recoveries(ledger)
        self.figures(verdicts, recoveries, ledger)
        failed = [v.name for v in verdicts if not v.passed]
        problems = failed + [
            f"{i.window.name} did not recover within {min(RECOVERY_LIMIT, left):.0f} s"
            + (" (all the short schedule watches)" if left < RECOVERY_LIMIT else "")
            for i, r, left in zip(self.injected, recoveries, self.measured(), strict=True)
            if r is None or r > RECOVERY_LIMIT
        ]
        if len(self.injected) < len(self.schedule.steps):
            problems.append("not every fault of the schedule ran")
        problems += [f"{death} died on its own" for death in self.dead]
        self.write(problems)
        return 1 if problems else 0

    async def provision(self) -> Population:
        users_file = self.options.run_dir / "users.json"
        async with Driver(self.stack.base_url, retries=Retries(attempts=5)) as driver:
            await provision(
                driver,
                users=self.profile.users,
                out=users_file,
                sockets=self.profile.sockets,
                env=self.stack.env,
                log=print,
            )
        return Population.load(users_file)

    async def load(self, population: Population, history: History) -> tuple[Tally, SocketTally]:
        profile = self.profile
        mix, population = chaos_mix(population, self.options.seed)
        shape = RampThenConstant(profile.rate, self.duration, ramp=3)
        faults = Faults(self.stack, self.servers, random.Random(self.options.seed))  # noqa: S311
        sockets_tally = SocketTally()
        async with Driver(
            self.stack.base_url,
            max_in_flight=20_000,
            request_timeout=10,
            retries=RETRIES,
            history=history,
        ) as driver:
            sockets = [Socket(driver, w, tally=sockets_tally) for w in population.sockets]
            await self.open_sockets(sockets)
            self.say(
                f"{len(sockets)} sockets open; load: {shape}, mix {SHARES}, {profile.users} users"
            )
            self.load_started = time.time()
            watching = asyncio.create_task(self.watch())
            injecting = asyncio.create_task(self.inject(faults))
            tally = await asyncio.wait_for(
                driver.open_loop(mix.next_request, shape), self.duration + LOAD_OVERRUN
            )
            self.load_ended = time.time()
            await injecting
            self.say(
                f"Load done: {tally.offered:,} offered, {tally.attempts:,} attempts, "
                f"{tally.retries:,} retries, {tally.dropped:,} dropped"
            )
            await self.quiet(sockets)
            watching.cancel()
        return tally, sockets_tally

    async def open_sockets(self, sockets: list[Socket]) -> None:
        """Opens every socket before the load, each tried up to OPEN_ATTEMPTS times a second
        apart (as a client would); a failed first attempt is noted in the report."""
        failures: Counter = Counter()
        gate = asyncio.Semaphore(25)

        async def one(socket: Socket) -> None:
            for attempt in range(1, OPEN_ATTEMPTS + 1):
                try:
                    async with gate:
                        await socket.open()
                    return
                except (OSError, TimeoutError, InvalidHandshake, RuntimeError) as exc:
                    failures[f"{type(exc).__name__}: {exc}"[:120]] += 1
                    if attempt == OPEN_ATTEMPTS:
                        raise
                    await asyncio.sleep(1.0)

        try:
            await asyncio.gather(*(one(s) for s in sockets))
        finally:
            if failures:
                self.notes.append(f"opening the sockets before the load failed: {dict(failures)}")

    async def inject(self, faults: Faults) -> None:
        for step in self.schedule.steps:
            await asyncio.sleep(step.pause)
            at = time.time() - self.load_started
            self.injecting = True
            try:
                window, detail = await faults.inject(step.fault)
            finally:
                self.injecting = False
            self.injected.append(Injected(window, detail))
            self.report.phase(
                f"+{at:.1f}s {step.fault}",
                f"{window.end - window.start:.1f}s; {detail}",
            )
        left = self.load_started + self.duration - time.time()
        if left < RECOVERY_LIMIT:
            self.notes.append(
                f"the faults overran the plan: only {left:.0f}s of load after the last one"
            )

    async def watch(self) -> None:
        """Records each stack process that dies while no fault is being injected (every
        fault restarts what it kills), with when it was found dead."""
        found: set[int] = set()
        while True:
            if not self.injecting:
                for component in self.stack.components.values():
                    pid = component.popen.pid if component.popen is not None else 0
                    if pid and not component.alive() and pid not in found:
                        found.add(pid)
                        at = time.time() - self.load_started
                        self.dead.append(f"{component.name} (pid {pid}, found at +{at:.1f}s)")
            await asyncio.sleep(0.5)

    async def quiet(self, sockets: list[Socket]) -> None:
        """Nothing PENDING (bounded), then every socket pings: after its pong it has been sent
        everything stored for its user up to the pong's seq."""
        ledger = self.stack.ledger
        ledger.close()  # its connection did not survive the PostgreSQL faults
        try:
            await asyncio.to_thread(ledger.wait_drained, timeout=self.profile.quiet)
        except TimeoutError as exc:
            self.notes.append(f"not quiet {self.profile.quiet:.0f}s after the load: {exc}")
        results = await asyncio.gather(*(synced(s) for s in sockets))
        unsynced = [s.wallet.email for s, ok in zip(sockets, results, strict=True) if not ok]
        if unsynced:
            self.notes.append(
                f"{len(unsynced)} sockets did not answer the final ping: {unsynced[:5]}"
            )
        await asyncio.gather(*(s.close() for s in sockets))

    # Figures --------------------------------------------------------------------------------

    def recoveries(self, ledger: checker.Ledger) -> list[float | None]:
        first_accepts: dict[tuple[str, str], float] = {}
        for attempt in self.recorded.attempts:
            if attempt.endpoint == checker.TRANSFER and attempt.status in (200, 202):
                key = (attempt.sender, attempt.key)
                first_accepts[key] = min(first_accepts.get(key, attempt.answered), attempt.answered)
        timeline = Timeline(
            offered=self.recorded.offered,
            accepted=sorted(first_accepts.values()),
            settled=sorted(t.settled_at for t in ledger.transfers if t.settled_at is not None),
            lifetimes=[(t.created_at, t.settled_at) for t in ledger.transfers],
        )
        ends = self.ends()
        for injected, until in zip(self.injected, ends, strict=True):
            self.report.phase(
                f"after {injected.window.name}", timeline.after(injected.window.end, until)
            )
        return [
            recovery_time(timeline, end=i.window.end, until=until)
            for i, until in zip(self.injected, ends, strict=True)
        ]

    def ends(self) -> list[float]:
        """Until when each fault's recovery can be measured: the next fault, or the load's end."""
        return [i.window.start for i in self.injected[1:]] + [self.load_ended]

    def measured(self) -> list[float]:
        """How long after each fault's end a recovery can be seen: until one WINDOW before
        the next fault (or the load's end)."""
        return [
            until - WINDOW - i.window.end
            for i, until in zip(self.injected, self.ends(), strict=True)
        ]

    def figures(self, verdicts, recoveries, ledger: checker.Ledger) -> None:
        report, profile = self.report, self.profile
        for injected, recovery, left in zip(
            self.injected, recoveries, self.measured(), strict=True
        ):
            window = injected.window
            recovered = recovery is not None and recovery <= RECOVERY_LIMIT
            report.figure(
                Figure(
                    f"Fault `{window.name}` at +{window.start - self.load_started:.1f}s",
                    f"{FAULTS[window.name]}: {injected.detail}; lasted "
                    f"{window.end - window.start:.1f}s; "
                    + (
                        f"recovered {recovery:.1f}s after it ended"
                        if recovery is not None
                        else f"not recovered in the {left:.0f}s it was watched"
                    ),
                    f"recovered within {RECOVERY_LIMIT:.0f} s",
                    recovered,
                )
            )
        attempts = self.recorded.attempts
        by_outcome = Counter(
            "no answer" if a.status is None else f"{a.status} {a.code or ''}".strip()
            for a in attempts
        )
        keys = {(a.sender, a.key) for a in attempts if a.endpoint == checker.TRANSFER}
        report.figure(
            Figure(
                "Requests by outcome (every attempt)",
                f"{len(attempts):,} attempts of {len(keys):,} transfer keys (and tickets): "
                + ", ".join(f"{k} x{n:,}" for k, n in by_outcome.most_common()),
            )
        )
        fives = Counter(
            f"{a.status} {a.code} on {a.endpoint}"
            for a in attempts
            if a.status is not None and a.status >= 500
        )
        report.figure(
            Figure(
                "5xx answers",
                f"{sum(fives.values()):,}: "
                + (", ".join(f"{k} x{n:,}" for k, n in fives.items()) or "none"),
                "only 503 with Retry-After where allowed (see no_5xx)",
            )
        )
        statuses = Counter(t.status for t in ledger.transfers)
        tally = self.tally
        report.figure(
            Figure(
                "Load",
                f"offered {tally.offered:,} ({tally.offered_rate:,.1f}/s), dropped "
                f"{tally.dropped:,}, retries {tally.retries:,}; operations never answered "
                f"{sum(tally.no_answer.values()):,}; transfers stored {len(ledger.transfers):,} "
                f"{dict(statuses)}",
            )
        )
        st = self.sockets_tally
        report.figure(
            Figure(
                "Sockets",
                f"{profile.sockets} users; {st.opened:,} connections opened, {st.reconnects:,} "
                f"reconnects, closes {dict(st.closes)}; {st.events:,} events, gaps {st.gaps}, "
                f"duplicates {st.duplicates} (as the client saw them)",
            )
        )
        for verdict in verdicts:
            report.figure(
                Figure(f"Checker: {verdict.name}", verdict.line(), verdict.promise, verdict.passed)
            )
        report.figure(
            Figure(
                "Stack processes that died on their own (every fault restarts what it kills)",
                ", ".join(self.dead) or "none",
                "none",
                not self.dead,
            )
        )
        report.figure(Figure("CPU", self.cpu.text()))

    def write(self, problems: list[str]) -> None:
        options, profile = self.options, self.profile
        command = "make chaos" + (" SHORT=1" if options.short else "")
        self.report.setup = {
            **machine(),
            "Seed": f"{options.seed} (replay: `{command} SEED={options.seed}`)",
            "Schedule": self.schedule.describe(),
            "Stack": (
                f"{self.stack.describe()}; on a private PostgreSQL 15 cluster (fsync and "
                "synchronous_commit on) and a private redis-server (no persistence)"
            ),
            "Load": (
                f"{profile.rate:g}/s open loop for {self.duration:.0f}s: "
                + ", ".join(f"{k} {v:.0%}" for k, v in SHARES.items())
                + f"; {profile.users} users, {profile.sockets} with a socket each; no answer or "
                "503 service_unavailable retried with the same key until final"
            ),
            "Recovery": (
                f"from the end of a fault to the first moment from which, over {WINDOW:.0f}s, "
                f"accepted and settled transfers each reach {SHARE:.0%} of those offered, and "
                f"no transfer older than {STALE:.0f}s is PENDING at any moment of it"
            ),
            "Run time": f"{time.monotonic() - self.started:.0f}s",
            "Result": "FAILED: " + "; ".join(problems) if problems else "passed",
        }
        self.report.notes += self.notes
        self.report.write(self.options.results)
        print(f"\n{self.report.markdown()}\n==> Report written to {self.options.results}")
        if problems:
            print("FAILED: " + "; ".join(problems), file=sys.stderr)


def main(argv=None) -> int:
    options = parse_args(argv)
    options.run_dir.mkdir(parents=True, exist_ok=True)
    chaos = ChaosRun(options)
    with time_limit(options.time_limit or int(chaos.duration + 600)):
        return chaos.main()
