"""Who used the machine's CPU while a run (or one phase of it) measured.

    meter = CpuMeter(stack)
    meter.start()
    ...
    use = meter.read()   # CpuUse: seconds per part, others' share, what else ran

Parts: each component of the stack (`web`, `ws`, `worker`, `beat`: the sessions of the
processes it started, children included), `PostgreSQL` (backends of the run's database),
`Redis` (every redis-server: shared with anyone else using one) and the `load generator`
(this process and the programs it runs itself, such as wrk). PostgreSQL also gets the CPU of
the backends that ended meanwhile (the postmaster's reaped children's time): Django replaces
a connection after CONN_MAX_AGE, so over a long run most backends end before they are read,
and those of any other database on the server count too (benchmarks run alone). Other work
on the same two cores (another test suite, say) slows every figure, so a report also gives
the share of the whole machine that processes outside the run took (from /proc/stat, so
short-lived processes count too, less the run's own processes and PostgreSQL's background
processes) and the busiest of them by command. Any other process of the run that ended
meanwhile is missed by the per-part figures and counted as another's share.
"""

import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

TICKS = os.sysconf("SC_CLK_TCK")
PARTS = ("web", "ws", "worker", "beat", "PostgreSQL", "Redis", "load generator")


class Process(NamedTuple):
    pid: int
    parent: int
    session: int
    cmdline: str
    ticks: int  # CPU (user + system) so far
    reaped: int  # CPU of the children it has waited for (cutime + cstime)


def processes() -> Iterator[Process]:
    """Every running process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue  # the process ended meanwhile
        # Fields after the parenthesised command name: state [0], parent [1], session [3],
        # utime [11], stime [12], cutime [13], cstime [14].
        fields = stat.rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])
        reaped = int(fields[13]) + int(fields[14])
        yield Process(int(entry.name), int(fields[1]), int(fields[3]), cmdline, ticks, reaped)


def command_name(cmdline: str) -> str:
    """`python3 celery worker`, `postgres: 15/main: checkpointer`: a command line, short."""
    if cmdline.startswith("postgres"):
        return cmdline[:40]
    return " ".join(Path(word).name for word in cmdline.split()[:3])[:40] or "?"


def _is_postmaster(cmdline: str) -> bool:
    # `/usr/lib/postgresql/15/bin/postgres -D ...`; its backends are `postgres: ...`.
    return Path(cmdline.split(" ", 1)[0]).name == "postgres"


def _busy_ticks() -> int:
    """Ticks all cores spent on anything but idle and I/O wait, since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4]  # fields: user nice system idle iowait ...


@dataclass(frozen=True)
class CpuUse:
    seconds: float  # wall time measured
    parts: dict[str, float]  # CPU seconds of each part
    others_share: float  # of all cores, taken by processes outside the run
    others_top: list[tuple[str, float]]  # (command, CPU seconds) of the busiest others

    def share(self, part: str) -> float:
        """A part's CPU as a share of one core."""
        return self.parts.get(part, 0.0) / self.seconds if self.seconds else 0.0

    def per_request(self, count: int, unit: str = "request") -> str:
        """CPU milliseconds per request (or transfer, or message) of each part."""
        if not count:
            return f"no {unit}s"
        used = [f"{p} {self.parts[p] * 1000 / count:.3g}" for p in PARTS if self.parts.get(p)]
        return f"CPU ms per {unit}: " + ", ".join(used)

    def text(self) -> str:
        parts = ", ".join(f"{p} {self.share(p):.0%}" for p in PARTS if self.parts.get(p))
        top = ", ".join(f"{command} {s:.1f}s" for command, s in self.others_top) or "nothing"
        return (
            f"of a core: {parts}; other processes {self.others_share:.0%} of the machine "
            f"(busiest: {top})"
        )


class CpuMeter:
    def __init__(self, stack) -> None:
        self.stack = stack

    def _part(self, process: Process, sessions: dict[int, str]) -> str | None:
        if process.session in sessions:
            return sessions[process.session]
        if os.getpid() in (process.pid, process.parent):
            return "load generator"
        cmdline = process.cmdline
        if cmdline.startswith("postgres") and f" {self.stack.database} " in f"{cmdline} ":
            return "PostgreSQL"
        if cmdline.startswith("redis-server"):
            return "Redis"
        return None

    def _read(self) -> dict[int, tuple[str, str | None, int]]:
        """pid -> (command, part or None, CPU ticks so far)."""
        sessions = {c.pid: c.kind for c in self.stack.components.values() if c.alive()}
        found = {}
        for process in processes():
            part = self._part(process, sessions)
            if part is None and process.cmdline.startswith("postgres"):
                part = ""  # PostgreSQL's background processes: the run's, not a part
            found[process.pid] = (command_name(process.cmdline), part, process.ticks)
            if _is_postmaster(process.cmdline):  # keyed apart from any real pid
                found[-process.pid] = ("postgres (ended backends)", "PostgreSQL", process.reaped)
        return found

    def start(self) -> None:
        self._started = time.monotonic()
        self._busy = _busy_ticks()
        self._ticks = self._read()

    def read(self) -> CpuUse:
        """Since start()."""
        elapsed = time.monotonic() - self._started
        parts: Counter = Counter()
        others: Counter = Counter()
        own = 0
        now = self._read()
        for pid, (command, part, ticks) in now.items():
            before = self._ticks.get(pid)
            spent = ticks - (before[2] if before else 0)
            if part is None:
                others[command] += spent
                continue
            own += spent
            if part:
                parts[part] += spent / TICKS
        # A backend that ended meanwhile is in the postmaster's reaped time with all its
        # life: what it had spent before start() is taken off again.
        for pid, (command, _, ticks) in self._ticks.items():
            if pid > 0 and pid not in now and command.startswith("postgres"):
                own -= ticks
                parts["PostgreSQL"] = max(0.0, parts["PostgreSQL"] - ticks / TICKS)
        foreign = max(0, _busy_ticks() - self._busy - own)
        return CpuUse(
            seconds=elapsed,
            parts=dict(parts),
            others_share=foreign / TICKS / (elapsed * os.cpu_count()) if elapsed else 0.0,
            others_top=[(c, t / TICKS) for c, t in others.most_common(3) if t],
        )
