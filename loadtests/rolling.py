"""`make rolling-restart`: every process of the stack restarted in turn under load, and
nothing a client can see goes wrong.

The restart of each kind of process, as an operator (or a process manager) does it:

- `web`: SIGHUP to the server's main process. granian answers it worker by worker: a new
  worker process (which loads the application afresh, so new code), then an old one stopped
  gracefully (gunicorn starts all the new ones, then stops all the old ones); the listening
  socket stays open in the main process all along, so no connection is refused and no
  request is cut. Done when every worker process is new.
- `ws`: SIGTERM (it closes every socket 1012 "service restart" and exits within 10 s), then
  start it again. Clients reconnect with `after_seq` and miss nothing; behind a proxy with two
  socket servers, restart one at a time and the clients move to the other.
- `worker-N`, one at a time: SIGTERM is Celery's warm shutdown: the drain in progress ends
  (it commits, or hands its partition on within 0.5 s); the messages the worker had not
  started go back to the queue; the other workers keep settling meanwhile. Then start it.
- `beat`: SIGTERM, then start it (the sweep runs every few seconds; one missed is harmless).

The run: a stack (loadtests/stack.py: the Procfile's web, ws, two workers, beat) on its own
database and Redis database, an open loop of payments with socket users (loadtests/steady.py),
and meanwhile each process restarted in turn with a pause between. Then every promise is
checked: every request answered as expected (no retry needed, no 5xx), every accepted key
stored once and settled, every socket stream without gap or duplicate and caught up, the
ledger audit clean; and every process was replaced (new PIDs). Report:
`loadtests/results/rolling-restart.md`.

Run: .venv/bin/python -m loadtests.rolling --help
"""

import argparse
import asyncio
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from loadtests.driver import run
from loadtests.report import Figure, Report, audit, machine
from loadtests.stack import ROOT, UNTHROTTLED, Component, Stack, local_urls, time_limit
from loadtests.steady import SteadyLoad

RELOAD_TIMEOUT = 60.0


@dataclass(frozen=True)
class Restart:
    component: str
    how: str
    at: float  # wall clock when it began
    seconds: float
    before: list[int]  # the component's PIDs before (leader first, then children)
    after: list[int]

    @property
    def replaced(self) -> bool:
        """Every process that served is gone and as many new ones serve."""
        if self.component == "web":  # the master stays; its workers are replaced
            return self.before[0] == self.after[0] and (
                not set(self.before[1:]) & set(self.after[1:])
                and len(self.after) == len(self.before)
            )
        return not set(self.before) & set(self.after) and len(self.after) == len(self.before)


def pids(component: Component) -> list[int]:
    return [component.pid, *component.children()] if component.alive() else []


def web_reload(component: Component, workers: int) -> str:
    """SIGHUP to the master; waits until `workers` worker processes serve, none of them old."""
    old = set(component.children())
    component.popen.send_signal(1)  # SIGHUP
    deadline = time.monotonic() + RELOAD_TIMEOUT
    while True:
        current = set(component.children())
        if len(current) == workers and not current & old:
            return "SIGHUP: new worker processes, then the old ones stopped gracefully"
        if time.monotonic() > deadline:
            raise RuntimeError(f"web workers not replaced within {RELOAD_TIMEOUT:g}s")
        time.sleep(0.1)


def restart(component: Component) -> str:
    component.stop()  # SIGTERM to the leader; warm, bounded
    component.start()  # waits until it serves
    return "SIGTERM, exit, start"


def rolling_restart(stack: Stack, *, pause: float, log=print) -> list[Restart]:
    """Restarts every component in turn (web, ws, each worker, beat), `pause` seconds apart."""
    done = []
    workers = int(stack.env["WEB_CONCURRENCY"])
    for name, component in stack.components.items():
        time.sleep(pause)
        before = pids(component)
        at, started = time.time(), time.monotonic()
        how = web_reload(component, workers) if name == "web" else restart(component)
        step = Restart(name, how, at, time.monotonic() - started, before, pids(component))
        log(f"==> Restarted {name} in {step.seconds:.1f}s ({how})")
        done.append(step)
    return done


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--rate", type=float, default=40, help="offered transfers/s, open loop (default 40)")
    add("--duration", type=int, default=90, help="seconds of load (default 90)")
    add("--pause", type=float, default=6, help="seconds between two restarts (default 6)")
    add("--users", type=int, default=300, help="wallet users (default 300)")
    add("--sockets", type=int, default=10, help="socket users (default 10)")
    add("--database", default="vaultpay_rolling", help="dropped and recreated")
    add("--redis-db", type=int, default=6, help="flushed")
    add("--results", type=Path, default=ROOT / "loadtests/results/rolling-restart.md")
    add("--time-limit", type=int, help="hard bound of the whole run (default duration + 600)")
    options = parser.parse_args(argv)
    options.time_limit = options.time_limit or options.duration + 600
    options.argv = " ".join(sys.argv[1:] if argv is None else argv)
    return options


def main(argv=None) -> int:
    options = parse_args(argv)
    run_dir = ROOT / ".run" / "rolling-restart"
    run_dir.mkdir(parents=True, exist_ok=True)
    database_url, redis_url = local_urls(database=options.database, redis_db=options.redis_db)
    report = Report("Rolling restart under load (make rolling-restart)")
    problems: list[str] = []
    began = time.monotonic()

    def say(text: str) -> None:
        print(f"==> [{time.monotonic() - began:5.1f}s] {text}", flush=True)

    stack = Stack(
        database_url=database_url, redis_url=redis_url, run_dir=run_dir, settings=UNTHROTTLED,
        web_processes=2, workers=2, worker_concurrency=1,
    )  # fmt: skip
    try:
        with time_limit(options.time_limit), stack:
            say(f"Starting the stack: database {stack.database}, {stack.redis_url}")
            stack.reset()
            stack.start()
            steady = SteadyLoad(
                stack, users=options.users, sockets=options.sockets, rate=options.rate,
                duration=options.duration, run_dir=run_dir, log=say,
            )  # fmt: skip
            restarts: list[Restart] = []

            async def during() -> None:
                restarts.extend(
                    await asyncio.to_thread(rolling_restart, stack, pause=options.pause, log=say)
                )

            outcome = run(steady.run(during=during))
            stack.stop()  # the audit sees the ledger at rest
            problems += steady.figures(report, outcome)
            for step in restarts:
                report.figure(
                    Figure(
                        f"Restart of {step.component}",
                        f"{step.how}; at +{step.at - outcome.load_started:.1f}s of the load, "
                        f"took {step.seconds:.1f}s; PIDs {step.before} -> {step.after}",
                        "every process replaced",
                        step.replaced,
                    )
                )
                if not step.replaced:
                    problems.append(f"{step.component} not replaced: {step.before} -> {step.after}")
            if len(restarts) != len(stack.components):
                problems.append("not every process was restarted during the load")
            if not audit(stack, report):
                problems.append("ledger_audit failed")
    except subprocess.CalledProcessError as exc:
        print(f"a command failed: {' '.join(exc.cmd)}\n{exc.stdout}\n{exc.stderr}")
        raise
    report.setup = {
        **machine(),
        "Stack": stack.describe(),
        "Load": f"uniform at {options.rate:g}/s for {options.duration}s (open loop), "
        f"{options.sockets} socket users, {options.users} users; one attempt per request",
        "Restarts": f"web, ws, worker-1, worker-2, beat in turn, {options.pause:g}s apart",
        "Command": "make rolling-restart"
        + (f' ROLLING_ARGS="{options.argv}"' if options.argv else ""),
        "Result": "FAILED: " + "; ".join(problems) if problems else "passed",
    }
    report.write(options.results)
    print(f"\n{report.markdown()}\n==> Report written to {options.results}")
    if problems:
        print("FAILED: " + "; ".join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
