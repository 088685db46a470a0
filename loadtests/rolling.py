"""`make rolling-restart`: every process of the stack restarted in turn under load, and
nothing a client can see goes wrong.

The restart of each kind of process, as an operator (or a process manager) does it:

- `web`: a second server beside the running one on the same port (granian binds a socket
  per worker with SO_REUSEPORT), which loads the application afresh (so new code); once each
  of its workers listens, SIGTERM to the old one, whose workers finish what they hold. Not
  SIGHUP: granian then replaces workers on a timer (`--respawn-interval`), not when the new
  ones are ready, and when workers start slower than that (7-15 s on a busy machine) no
  worker listens for a moment and connections are refused. A server whose workers share
  one socket (gunicorn) gets SIGHUP: its main process keeps the socket open throughout.
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
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from loadtests.driver import run
from loadtests.history import History, read
from loadtests.report import Figure, Report, audit, machine
from loadtests.stack import (
    ROOT,
    UNTHROTTLED,
    Component,
    Stack,
    children,
    local_urls,
    time_limit,
)
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
        """Every process that served is gone and as many new ones serve (after a SIGHUP the
        web server's main process stays and only its workers are new)."""
        kept = self.before[:1] if self.how.startswith("SIGHUP") else []
        return set(self.before) & set(self.after) == set(kept) and len(self.after) == len(
            self.before
        )


def pids(component: Component) -> list[int]:
    return [component.pid, *component.children()] if component.alive() else []


def listening(pids: list[int], port: int) -> int:
    """How many distinct sockets listening on `port` the processes `pids` hold. A server that
    binds a socket of its own in each worker (SO_REUSEPORT, as granian does on Linux) holds
    one per worker that serves; one whose workers share their master's socket holds one."""
    if not pids:
        return 0
    listen = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pids[0]}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                listen.add(f"socket:[{fields[9]}]")
    held = set()
    for pid in pids:
        with contextlib.suppress(OSError):  # a process that just ended
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target in listen:
                        held.add(target)
    return len(held)


def web_replace(component: Component, workers: int, port: int) -> str:
    """Starts a second web server beside the running one on the same port (SO_REUSEPORT),
    waits until each of its workers listens, i.e. has loaded the application, then stops the
    old one with SIGTERM (its workers finish what they hold). Servers whose workers share one
    socket get SIGHUP instead, then every worker is waited for."""
    old = component.popen
    if listening(pids(component), port) < workers:
        return web_reload(component, workers)
    new = component.spawn()
    deadline = time.monotonic() + RELOAD_TIMEOUT
    while listening([new.pid, *children(new.pid)], port) < workers:
        if new.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the new web server did not serve within {RELOAD_TIMEOUT:g}s")
        time.sleep(0.1)
    component.popen = new
    old.send_signal(signal.SIGTERM)
    try:
        old.wait(timeout=RELOAD_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(old.pid, signal.SIGKILL)
        old.wait()
    return (
        "a second server beside it on the port, then SIGTERM to the old one once every new "
        "worker listened"
    )


def web_reload(component: Component, workers: int) -> str:
    """SIGHUP to the master; waits until `workers` worker processes serve, none of them old."""
    old = set(component.children())
    component.popen.send_signal(signal.SIGHUP)
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
        web = name == "web"
        how = web_replace(component, workers, stack.port) if web else restart(component)
        step = Restart(name, how, at, time.monotonic() - started, before, pids(component))
        log(f"==> Restarted {name} in {step.seconds:.1f}s ({how})")
        done.append(step)
    return done


def unanswered_by_restart(history: Path, restarts: list[Restart]) -> str:
    """Each request that got no answer, counted under the restart that was under way when it
    was sent (up to 2 s after it ended), with the errors seen."""
    sent, found = {}, Counter()
    for line in read(history):
        if line["t"] == "send":
            sent[(line["op"], line["attempt"])] = line["at"]
        elif line["t"] == "no_answer":
            at = sent[(line["op"], line["attempt"])]
            during = next(
                (r.component for r in restarts if r.at <= at <= r.at + r.seconds + 2), "none"
            )
            found[(during, line["error"])] += 1
    return ", ".join(f"{during}: {error} x{n}" for (during, error), n in found.items())


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
            history = History(run_dir / "history.jsonl")
            steady = SteadyLoad(
                stack, users=options.users, sockets=options.sockets, rate=options.rate,
                duration=options.duration, run_dir=run_dir, history=history, log=say,
            )  # fmt: skip
            restarts: list[Restart] = []

            async def during() -> None:
                restarts.extend(
                    await asyncio.to_thread(rolling_restart, stack, pause=options.pause, log=say)
                )

            outcome = run(steady.run(during=during))
            history.close()
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
            report.figure(
                Figure(
                    "Requests without an answer, by the restart under way when sent",
                    unanswered_by_restart(history.path, restarts) or "none",
                )
            )
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
