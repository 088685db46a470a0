"""The one report writer of the load runs: figures against targets, printed as they come and
written as Markdown.

    report = Report("Load test: uniform")
    report.setup |= machine()
    report.phase("accept", outcome_line(tally, offered="50/s open loop"))
    load_figures(report, tally)        # offered vs achieved, drops, outcomes, 5xx
    report.figure(Figure("CPU", meter.read().text()))
    clean = audit(stack, report)       # manage.py ledger_audit
    report.write(path)
"""

import os
import platform
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.driver import Tally, run
from loadtests.stack import time_limit


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
    sections: list[tuple[str, str]] = field(default_factory=list)  # (title, Markdown)

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
        for title, text in self.sections:
            lines += ["", f"## {title}", "", text]
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.markdown())


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def outcome_line(tally: Tally, *, offered: str = "closed loop") -> str:
    """One printed line of a batch: rate, latency, errors, drops, the generator's CPU."""
    line = (
        f"offered {offered}; {tally.ok:,}/{tally.sent:,} ok in {tally.elapsed:.2f}s = "
        f"{tally.rate:,.0f}/s, p50 {ms(tally.percentile(50))}, p99 {ms(tally.percentile(99))}; "
        f"errors: {tally.error_text()}"
    )
    if tally.dropped:
        line += f"; dropped {tally.dropped:,}"
    if tally.elapsed:
        line += f"; client CPU {tally.client_cpu / tally.elapsed:.0%} of a core"
    return line


def load_figures(report: Report, tally: Tally, *, max_in_flight: int) -> None:
    """Offered against achieved, what the open loop dropped or sent late, the answers by
    status and code, and the 5xx answers (target: none)."""
    report.figure(
        Figure(
            "Open loop",
            f"offered {tally.offered:,} ({tally.offered_rate:,.1f}/s), sent {tally.sent:,}, "
            f"achieved {tally.ok:,} answered as expected ({tally.rate:,.1f}/s); dropped "
            f"{tally.dropped:,} (max {max_in_flight} in flight); no answer "
            f"{sum(tally.no_answer.values()):,} {dict(tally.no_answer) or ''}; retries "
            f"{tally.retries:,}; sends started over 10 ms late {tally.late:,} (worst "
            f"{ms(tally.lag_max)})",
        )
    )
    statuses = ", ".join(f"{kind} x{n:,}" for kind, n in sorted(tally.statuses.items()))
    report.figure(Figure("Answers by status", statuses or "none"))
    if tally.check_failures:
        failures = ", ".join(f"{k} x{n:,}" for k, n in tally.check_failures.most_common(10))
        report.figure(Figure("Answers with the wrong content", failures))
    server_errors = ", ".join(f"{k} x{n:,}" for k, n in tally.server_errors.items())
    report.figure(Figure("5xx answers", server_errors or "none", "none", not tally.server_errors))


def audit(stack, report: Report) -> bool:
    """Runs `manage.py ledger_audit` on the stack's database, prints and reports it; True
    when the ledger is clean."""
    result = stack.manage("ledger_audit", check=False)
    text = (result.stdout + result.stderr).strip().replace("\n", " / ")
    clean = result.returncode == 0
    report.phase("ledger_audit", text[:400])
    report.figure(Figure("ledger_audit", text[:400], "clean", clean))
    return clean


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


def benchmark(
    stack,
    report: Report,
    *,
    command: str,
    seconds: int,
    phases: Callable[[], Coroutine],
    out: Path,
    notes: str,
) -> int:
    """What every benchmark does around its phases: within `seconds`, reset and start the
    stack, run `phases()` (on uvloop; it returns whether the ledger audit was clean), stop
    everything whatever happens, write the report to `out` and print it. 0 when the audit
    was clean. `notes` names the hand-written notes beside the report."""
    report.setup = machine() | {"Stack": stack.describe()} | report.setup
    report.notes.append(
        f"Written by `{command}`; rerunning overwrites it. What the profiles found, the fixes "
        f"measured and the remaining gap: `{notes}`."
    )
    report.notes.append(
        "`other processes` is the share of the machine that processes outside the benchmark "
        "(another test suite, say) took during a phase; every figure shares the same two "
        "cores with it."
    )
    started = time.monotonic()
    with time_limit(seconds), stack:
        print(f"==> Resetting database {stack.database} and {stack.redis_url}; starting")
        stack.reset()
        stack.start()
        print("==> Phases")
        clean = run(phases())
    report.setup["Run time"] = f"{time.monotonic() - started:.0f}s"
    report.write(out)
    print(f"\n{report.markdown()}\n==> Report written to {out}")
    return 0 if clean else 1
