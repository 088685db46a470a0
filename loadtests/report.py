"""The figures of a benchmark run, printed as they come and written as Markdown."""

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.client import Outcome


@dataclass
class Figure:
    """One measured figure against its target; `passed` is None when there is no target."""

    name: str
    measured: str
    target: str = ""
    passed: bool | None = None

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: ""}[self.passed]


@dataclass
class Report:
    title: str
    setup: dict[str, str] = field(default_factory=dict)
    phases: list[tuple[str, str]] = field(default_factory=list)  # (phase, figures line)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def phase(self, name: str, line: str) -> None:
        print(f"  {name:<34} {line}", flush=True)
        self.phases.append((name, line))

    def figure(self, figure: Figure) -> None:
        self.figures.append(figure)

    def markdown(self) -> str:
        lines = [f"# {self.title}", "", "## Setup", ""]
        lines += [f"- **{k}**: {v}" for k, v in self.setup.items()]
        lines += ["", "## Figures against targets", ""]
        lines += ["| Figure | Measured | Target | Result |", "|---|---|---|---|"]
        lines += [f"| {f.name} | {f.measured} | {f.target} | {f.verdict} |" for f in self.figures]
        lines += ["", "## Phases, as printed", "", "| Phase | Figures |", "|---|---|"]
        lines += [f"| {name} | {line} |" for name, line in self.phases]
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.markdown())


def outcome_line(outcome: Outcome, *, offered: str = "closed loop") -> str:
    line = (
        f"offered {offered}; {outcome.ok:,}/{outcome.sent:,} ok in {outcome.elapsed:.2f}s = "
        f"{outcome.rate:,.0f}/s, p50 {outcome.percentile(50) * 1000:.1f} ms, "
        f"p99 {outcome.percentile(99) * 1000:.1f} ms; errors: {outcome.error_text()}"
    )
    if outcome.dropped:
        line += f"; dropped {outcome.dropped:,}"
    return line + f"; client CPU {outcome.client_cpu / outcome.elapsed:.0%} of a core"


def machine() -> dict[str, str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "Cores": f"{os.cpu_count()} ({model})",
        "RAM": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
    }
