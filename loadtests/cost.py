"""CPU time per request of each part of the stack during a phase.

On a shared two-core machine rates move with whatever else runs there; the CPU time each
part of the stack spends per request moves far less, and says where the time goes. Parts:
the web server, the Celery workers (sessions of the processes the stack started), the
PostgreSQL backends of the benchmark database, the Redis server (whole: shared with anyone
else using it) and this load generator. A process that ends during a phase is missed.
"""

import os

from loadtests.cpu import TICKS, backend_database, processes
from loadtests.stack import Stack

PARTS = ("web", "workers", "PostgreSQL", "Redis", "load generator")


class CostMeter:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._ticks: dict[int, tuple[str, int]] = {}

    def start(self) -> None:
        self._ticks = self._read()

    def per_request(self, count: int) -> str:
        """Since start(): CPU milliseconds per request (or transfer) of each part."""
        spent = dict.fromkeys(PARTS, 0)
        for pid, (part, ticks) in self._read().items():
            spent[part] += ticks - self._ticks.get(pid, (part, 0))[1]
        shares = [f"{part} {spent[part] / TICKS * 1000 / count:.2f}" for part in PARTS]
        return f"CPU ms per request: {', '.join(shares)}" if count else "no requests"

    def _read(self) -> dict[int, tuple[str, int]]:
        """(part, CPU ticks so far) of every process of the stack."""
        sessions = {p.popen.pid: "web" for p in self.stack.web}
        sessions |= {p.popen.pid: "workers" for p in self.stack.workers}
        found = {}
        for pid, session, cmdline, ticks in processes():
            if pid == os.getpid():
                part = "load generator"
            elif session in sessions:
                part = sessions[session]
            elif backend_database(cmdline) == self.stack.database:
                part = "PostgreSQL"
            elif cmdline.startswith("redis-server"):
                part = "Redis"
            else:
                continue
            found[pid] = (part, ticks)
        return found
