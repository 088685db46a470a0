"""The faults themselves. Each one signals only processes this run started (the stack's
components and the private servers), waits for what it restarts to serve again, and returns
its window: when it began, when it ended (the component or server is back), and which
endpoints may answer 503 `service_unavailable` meanwhile.

Blocking calls (sleeps, pg_ctl, waiting for a restarted process) run on a thread, so the load
driver's event loop keeps sending while a fault lasts.
"""

import asyncio
import os
import random
import signal
import time

from loadtests.chaos.checker import ANY, TICKET, FaultWindow
from loadtests.cpu import processes
from loadtests.servers import PrivateServers
from loadtests.stack import Stack

OUTAGE = 10.0  # seconds a stopped or frozen server stays down
POSTGRES_DOWN = frozenset({ANY})  # every endpoint needs the database
REDIS_DOWN = frozenset({TICKET})  # the rest answers from PostgreSQL


def _cpu_ticks(pids: list[int]) -> dict[int, int]:
    return {p.pid: p.ticks for p in processes() if p.pid in pids}


def busiest(pids: list[int], sample: float = 0.3) -> int:
    """The PID that used the most CPU over `sample` seconds: the pool child settling a batch
    right now (ties: the first)."""
    before = _cpu_ticks(pids)
    time.sleep(sample)
    after = _cpu_ticks(pids)
    return max(pids, key=lambda pid: after.get(pid, 0) - before.get(pid, 0))


class Faults:
    def __init__(self, stack: Stack, servers: PrivateServers, rng: random.Random) -> None:
        self.stack = stack
        self.servers = servers
        self.rng = rng

    async def inject(self, fault: str) -> tuple[FaultWindow, str]:
        """Injects `fault`; returns its window and what exactly was done."""
        action = getattr(self, "_" + fault.replace("-", "_"))
        return await asyncio.to_thread(action)

    @staticmethod
    def _window(name: str, start: float, unavailable=frozenset()) -> FaultWindow:
        return FaultWindow(name, start, time.time(), unavailable)

    def _pool_child_kill(self) -> tuple[FaultWindow, str]:
        worker = self.rng.choice(self.stack.workers())
        pool = worker.children()
        if not pool:
            raise RuntimeError(f"{worker.name} has no pool children to kill")
        pid = busiest(pool)
        start = time.time()
        os.kill(pid, signal.SIGKILL)
        return self._window("pool-child-kill", start), f"{worker.name} child {pid} (busiest)"

    def _worker_kill(self) -> tuple[FaultWindow, str]:
        worker = self.rng.choice(self.stack.workers())
        pids = [worker.pid, *worker.children()]
        start = time.time()
        worker.kill()
        worker.start()
        return self._window("worker-kill", start), f"{worker.name} {pids}, restarted"

    def _redis_stop(self) -> tuple[FaultWindow, str]:
        pid = self.servers.redis.pid
        start = time.time()
        self.servers.redis.kill()
        time.sleep(OUTAGE)
        self.servers.redis.start()
        return self._window("redis-stop", start, REDIS_DOWN), f"redis-server {pid} SIGKILL"

    def _redis_freeze(self) -> tuple[FaultWindow, str]:
        pid = self.servers.redis.pid
        start = time.time()
        self.servers.redis.freeze()
        try:
            time.sleep(OUTAGE)
        finally:
            self.servers.redis.thaw()
        return self._window("redis-freeze", start, REDIS_DOWN), f"redis-server {pid} SIGSTOP"

    def _postgres_crash(self) -> tuple[FaultWindow, str]:
        pid = self.servers.postgres.pid
        start = time.time()
        self.servers.postgres.stop("immediate")
        self.servers.postgres.start()
        return (
            self._window("postgres-crash", start, POSTGRES_DOWN),
            f"postmaster {pid} pg_ctl stop -m immediate",
        )

    def _postgres_stop(self) -> tuple[FaultWindow, str]:
        pid = self.servers.postgres.pid
        start = time.time()
        self.servers.postgres.stop("fast")
        time.sleep(OUTAGE)
        self.servers.postgres.start()
        return (
            self._window("postgres-stop", start, POSTGRES_DOWN),
            f"postmaster {pid} pg_ctl stop -m fast",
        )

    def _ws_kill(self) -> tuple[FaultWindow, str]:
        ws = self.stack.component("ws")
        pid = ws.pid
        start = time.time()
        ws.kill()
        ws.start()
        return self._window("ws-kill", start), f"ws {pid}, restarted"

    def _web_worker_kill(self) -> tuple[FaultWindow, str]:
        workers = self.stack.component("web").children()
        if not workers:
            raise RuntimeError("the web server has no workers to kill")
        pid = self.rng.choice(workers)
        start = time.time()
        os.kill(pid, signal.SIGKILL)
        return self._window("web-worker-kill", start), f"web worker {pid}"
