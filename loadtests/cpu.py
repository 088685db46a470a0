"""Who used the machine's CPU during a phase: the benchmark's own processes, or others.

Other work on the same two cores (another test suite, say) slows every figure, so each phase
reports the share of the machine that processes outside the benchmark took while it ran.
Own: this process, the sessions of the processes the stack started, Redis, PostgreSQL's
auxiliary processes and its backends of the benchmark database. Others: everything else the
machine was busy with (from /proc/stat, so short-lived processes such as a test suite's
workers are counted too), less what the own processes used.
"""

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def processes() -> Iterator[tuple[int, int, str, int]]:
    """(pid, session id, command line, CPU ticks so far) of every running process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # the process ended meanwhile
        # Fields after the parenthesised command name: state is [0], session [3], utime [11].
        fields = stat.rsplit(")", 1)[1].split()
        yield int(entry.name), int(fields[3]), cmdline, int(fields[11]) + int(fields[12])


def backend_database(cmdline: str) -> str | None:
    """The database of a PostgreSQL backend (`postgres: 15/main: user db host state`)."""
    words = cmdline.split()
    backend = cmdline.startswith("postgres: ") and len(words) > 3 and words[2] == "postgres"
    return words[3] if backend else None


def _own_ticks(own_sessions: set[int], database: str) -> dict[int, int]:
    """CPU ticks so far of each process that is the benchmark's."""
    return {
        pid: ticks
        for pid, session, cmdline, ticks in processes()
        if session in own_sessions
        or cmdline.startswith("redis-server")
        or (cmdline.startswith("postgres") and backend_database(cmdline) in (None, database))
    }


def _busy_ticks() -> int:
    """Ticks all cores spent on anything but idle and I/O wait, since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4]  # fields: user nice system idle iowait ...


class CpuMeter:
    def __init__(self, own_sessions: Callable[[], set[int]], database: str) -> None:
        self.own_sessions = own_sessions
        self.database = database

    def start(self) -> None:
        self._started = time.monotonic()
        self._busy = _busy_ticks()
        self._own = _own_ticks(self.own_sessions(), self.database)

    def foreign_share(self) -> float:
        """Since start(): CPU used by other processes, as a share of all cores' time (an own
        process that ended meanwhile counts as another's, so this errs high)."""
        elapsed = time.monotonic() - self._started
        now = _own_ticks(self.own_sessions(), self.database)
        own = sum(t - self._own.get(pid, 0) for pid, t in now.items())
        foreign = max(0, _busy_ticks() - self._busy - own)
        return foreign / TICKS / (elapsed * os.cpu_count())
