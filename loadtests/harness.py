"""What every benchmark script does around its phases."""

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvloop

from loadtests.report import Figure, Report
from loadtests.stack import Stack


def bench_run(
    *,
    stack: Stack,
    report: Report,
    out: Path,
    time_limit: int,
    prepare: Callable[[], None],
    phases: Callable[[], Awaitable[bool]],
) -> int:
    """Resets the stack's database and Redis, runs `prepare()` then `phases()` (on uvloop)
    within `time_limit` seconds, stops every process of the stack whatever happens (a
    failure, SIGTERM, the time limit), writes the report to `out` and prints it. Returns 0
    when `phases()` says every figure passed, else 1."""

    def abort(signum, frame):
        raise SystemExit(f"aborted by signal {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, abort)
    signal.signal(signal.SIGALRM, abort)
    signal.alarm(time_limit)
    started = time.monotonic()
    try:
        print(f"==> Resetting database {stack.database} and Redis {stack.redis_url}")
        stack.reset()
        prepare()
        print("==> Phases")
        passed = asyncio.Runner(loop_factory=uvloop.new_event_loop).run(phases())
    except subprocess.CalledProcessError as exc:
        print(f"a command failed: {' '.join(exc.cmd)}\n{exc.stdout}\n{exc.stderr}")
        raise
    finally:
        stack.close()
        signal.alarm(0)
    report.setup["Run time"] = f"{time.monotonic() - started:.0f}s"
    report.write(out)
    print(f"\n{report.markdown()}\n==> Report written to {out}")
    print(json.dumps({f.name: f.verdict for f in report.figures}, indent=2))
    return 0 if passed else 1


def ledger_audit_figure(stack: Stack, report: Report) -> tuple[str, bool]:
    """Runs `manage.py ledger_audit` on the stack's database, adds its figure to the report,
    and returns its output on one line and whether the ledger is clean."""
    result = stack.manage("ledger_audit", check=False)
    text = (result.stdout + result.stderr).strip().replace("\n", " / ")
    report.figure(Figure("ledger_audit", text[:300], "clean", result.returncode == 0))
    return text, result.returncode == 0
