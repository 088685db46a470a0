"""CPU time per request of each part of the stack during a phase.

On a shared two-core machine rates move with whatever else runs there; the CPU time each
part of the stack spends per request moves far less, and says where the time goes. Parts:
the web server, the Celery workers (sessions of the processes the stack started), the
PostgreSQL backends of the benchmark database, the Redis server (whole: shared with anyone
else using it) and this load generator. A process that ends during a phase is missed.
"""

import os
from pathlib import Path

from loadtests.stack import Stack

TICKS = os.sysconf("SC_CLK_TCK")
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
        found = {os.getpid(): ("load generator", _ticks(Path("/proc/self/stat").read_text()))}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue  # the process ended meanwhile
            session = int(stat.rsplit(")", 1)[1].split()[3])
            if session in sessions:
                part = sessions[session]
            elif cmdline.startswith("postgres: ") and f" {self.stack.database} " in cmdline:
                part = "PostgreSQL"
            elif cmdline.startswith("redis-server"):
                part = "Redis"
            else:
                continue
            found[int(entry.name)] = (part, _ticks(stat))
        return found


def _ticks(stat: str) -> int:
    # Fields after the parenthesised command name: utime is [11], stime [12].
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])
