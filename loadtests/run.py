"""`make loadtest SCENARIO=... RATE=... DURATION=...`: one locust scenario, end to end.

1. The stack: unless --url names a running one, a throwaway PostgreSQL database (dropped,
   recreated, migrated), a Redis database of its own (flushed), gunicorn (the Procfile's web
   server), the Procfile's WebSocket server when there is one, a Celery worker and beat.
2. Provisioning (`loadtests.provision`): --users wallet users funded by staff deposits.
3. locust, headless, with the scenario's open-loop user at --rate and the WebSocket user,
   for --duration seconds plus a grace period for the last answers; killed if it overruns.
4. The last transfers settle (bounded wait); the stack's processes stop; `manage.py
   ledger_audit` checks the ledger; the scenario's own checks run (replays, exact counts).
5. `loadtests/results/<name>.md` with the figures, next to locust's CSV and HTML report.

Exit status 1 when the audit fails, anything answered 5xx, or a scenario check failed;
missing a target does not fail the command (it is a measurement). The whole run is bounded
by --time-limit.

Run: .venv/bin/python -m loadtests.run --help
"""

import argparse
import csv
import importlib.metadata
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import requests

from loadtests.cpu import CpuMeter
from loadtests.names import LATENCY_NAME, LATENCY_TYPE, SCENARIOS, SOCKET_USER
from loadtests.provision import provision
from loadtests.report import Figure, Report, machine
from loadtests.shapes import RampThenConstant
from loadtests.stack import ROOT, ServerConfig, Stack

MAX_DURATION = 840  # access tokens live 15 minutes (CONTRACT section 2)
TARGETS = {
    "accept_rate": 800,
    "accept_p99_ms": 50,
    "settled": {"uniform": 1_000, "hot-receiver": 300, "hot-sender": 200},
    "socket_p50_ms": 25,
    "socket_p99_ms": 150,
    "sustained_rate": 500,
    "sustained_seconds": 3600,
    "sustained_over_1s": 0.01,
}
SETTINGS = {
    # One sender pays hundreds of times a second (hot sender, A<->B, replays): the per-user
    # transfer throttle must not be what is measured. Staff deposits share the user scope.
    "THROTTLE_TRANSFER": "100000/s",
    "THROTTLE_USER": "100000/s",
    "THROTTLE_LOGIN": "100000/min",
    "THROTTLE_TICKET": "100000/min",
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--scenario", required=True, choices=sorted(SCENARIOS))
    add("--rate", type=float, default=50, help="offered transfers/s, open loop (default 50)")
    add("--duration", type=int, default=30, help=f"seconds of load, at most {MAX_DURATION}")
    add("--ramp", type=float, help="seconds of rising load at the start (default duration/10)")
    add("--users", type=int, default=1000, help="wallet users to provision (default 1,000)")
    add("--balance", default="10000.00", help="each wallet's deposit (default 10000.00)")
    add("--sockets", type=int, default=5, help="WebSocket users (0: none; default 5)")
    add("--socket-rate", type=float, help="their transfers/s together (default rate/20, 1-20)")
    add("--max-in-flight", type=int, default=512, help="open loop: unanswered at most")
    add("--request-timeout", type=float, default=10, help="seconds before a request times out")
    add("--name", help="results name (default: the scenario)")
    add("--results", type=Path, default=ROOT / "loadtests/results", help="results folder")
    add("--url", help="use the stack running here instead (DATABASE_URL must name its db)")
    add("--database", default="vaultpay_load", help="dropped and recreated (own stack only)")
    add("--redis-db", type=int, default=5, help="flushed (own stack only)")
    add("--port", type=int, default=0, help="web port (default: a free one); WS uses port+1")
    add("--web-workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    add("--worker-concurrency", type=int, default=2, help="Celery prefork children")
    add("--drain-timeout", type=float, default=120, help="seconds to wait for settlement")
    add("--time-limit", type=int, help="hard bound of the whole run (default duration + 600)")
    options = parser.parse_args(argv)
    if not 1 <= options.duration <= MAX_DURATION:
        parser.error(f"--duration must be 1 to {MAX_DURATION} s (access token lifetime)")
    if options.rate <= 0:
        parser.error("--rate must be above 0")
    options.name = options.name or options.scenario
    if options.ramp is None:
        options.ramp = min(10.0, options.duration / 10)
    if options.socket_rate is None:
        options.socket_rate = min(20.0, max(1.0, options.rate / 20)) if options.sockets else 0.0
    options.time_limit = options.time_limit or options.duration + 600
    return options


class Run:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.run_dir = ROOT / ".run" / f"loadtest-{options.name}"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.results = options.results
        self.results.mkdir(parents=True, exist_ok=True)
        self.own = options.url is None
        self.stack = self._stack()
        self.shape = RampThenConstant(options.rate, options.duration, options.ramp)
        self.report = Report(f"Load test: {options.name}")
        self.problems: list[str] = []  # each fails the command
        self.locust_pid = 0

    def _stack(self) -> Stack:
        if self.own:
            port = self.options.port
            return Stack(
                database=self.options.database,
                redis_db=self.options.redis_db,
                run_dir=self.run_dir,
                settings_env=SETTINGS,
                port=port,
                ws_port=port + 1 if port else 0,
            )
        database_url = urlparse(os.environ.get("DATABASE_URL", ""))
        if database_url.scheme not in ("postgres", "postgresql"):
            raise SystemExit("--url needs DATABASE_URL naming the stack's PostgreSQL database")
        stack = Stack(
            database=database_url.path.lstrip("/"),
            redis_db=0,
            run_dir=self.run_dir,
            settings_env={"DATABASE_URL": os.environ["DATABASE_URL"]},
        )
        stack.database_url = os.environ["DATABASE_URL"]
        return stack

    @property
    def url(self) -> str:
        return self.options.url or self.stack.base_url

    def say(self, text: str) -> None:
        print(f"==> {text}", flush=True)

    # Steps ----------------------------------------------------------------------------------

    def start(self) -> None:
        if not self.own:
            response = requests.get(f"{self.url}/readyz", timeout=10)
            if response.status_code != 200:
                raise SystemExit(f"{self.url}/readyz answered {response.status_code}")
            self.say(f"Using the stack at {self.url}")
            self.sockets_served = True
            return
        self.say(
            f"Starting the stack: database {self.stack.database}, Redis db "
            f"{self.options.redis_db}, {self.url}"
        )
        self.stack.reset()
        self.stack.web_start(ServerConfig("gunicorn", self.options.web_workers))
        self.sockets_served = self.stack.ws_start()
        if not self.sockets_served:
            self.say("The Procfile has no `ws` process: socket latency cannot be measured")
        self.stack.workers_start(concurrency=self.options.worker_concurrency)

    def provision(self) -> None:
        self.say(f"Provisioning {self.options.users:,} users through staff deposits")
        started = time.monotonic()
        hot_units = self.shape.total // 2
        self.users_file = self.run_dir / "users.json"
        self.population = provision(
            url=self.url,
            users=self.options.users,
            out=self.users_file,
            balance=self.options.balance,
            hot_balance=f"{hot_units}.00" if self.options.scenario == "hot-sender" else None,
            sockets=self.options.sockets,
            env=self.stack.env,
            log=print,
        )
        self.hot_units = hot_units
        self.provision_seconds = time.monotonic() - started

    def locust(self) -> None:
        options = self.options
        grace = options.request_timeout + 5
        run_time = int(options.duration + grace)
        prefix = self.results / options.name
        self.summary_file = self.run_dir / "summary.json"
        self.summary_file.unlink(missing_ok=True)
        classes = [SCENARIOS[options.scenario]]
        users = 1
        if options.sockets and self.sockets_served:
            classes.append(SOCKET_USER)
            users += options.sockets
        command = [
            sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests/locustfile.py"),
            "--headless", "--host", self.url, "--users", str(users),
            "--spawn-rate", str(users), "--run-time", f"{run_time}s", "--stop-timeout", "5",
            "--csv", str(prefix), "--html", f"{prefix}.html", "--only-summary",
            "--loglevel", "WARNING", "--exit-code-on-error", "0",
            "--rate", str(options.rate), "--ramp", str(options.ramp),
            "--load-duration", str(options.duration),
            "--max-in-flight", str(options.max_in_flight),
            "--request-timeout", str(options.request_timeout),
            "--socket-rate", str(options.socket_rate), "--summary", str(self.summary_file),
            *classes,
        ]  # fmt: skip
        self.say(
            f"locust: {options.scenario} at {self.shape}; {users - 1} socket users at "
            f"{options.socket_rate:g}/s together; hard stop after {run_time + 60}s"
        )
        env = {**os.environ, "LOADTEST_USERS": str(self.users_file), "PYTHONPATH": str(ROOT)}
        self.meter = CpuMeter(
            lambda: self.stack.sessions() | {self.locust_pid}, self.stack.database
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        log = (self.run_dir / "locust.log").open("w")
        process = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.locust_pid = process.pid
        self.meter.start()
        started = time.monotonic()
        try:
            process.wait(timeout=run_time + 60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            self.problems.append("locust overran its time bound and was killed")
        self.wall = time.monotonic() - started
        self.other_share = self.meter.foreign_share()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.locust_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        log.close()
        print((self.run_dir / "locust.log").read_text()[-6000:])
        if not self.summary_file.exists():
            raise RuntimeError(f"locust wrote no summary; see {self.run_dir / 'locust.log'}")
        self.summary = json.loads(self.summary_file.read_text())

    def drain(self) -> None:
        self.say("Waiting for the last transfers to settle")
        try:
            self.stack.wait_drained(timeout=self.options.drain_timeout, poll=0.2)
            self.drained = "all settled"
        except TimeoutError as exc:
            self.drained = str(exc)
            self.problems.append(f"not settled within {self.options.drain_timeout:g}s: {exc}")

    def audit(self) -> None:
        self.say("manage.py ledger_audit")
        result = self.stack.manage("ledger_audit", check=False)
        self.audit_text = (result.stdout + result.stderr).strip().replace("\n", " / ")
        self.audit_ok = result.returncode == 0
        print(self.audit_text)
        if not self.audit_ok:
            self.problems.append("ledger_audit failed")

    # Figures --------------------------------------------------------------------------------

    def stats(self) -> list[dict]:
        with open(self.results / f"{self.options.name}_stats.csv") as file:
            return list(csv.DictReader(file))

    def failures(self) -> list[dict]:
        with open(self.results / f"{self.options.name}_failures.csv") as file:
            return list(csv.DictReader(file))

    def balance(self, role: str) -> str:
        return self.stack.balance(email=self.population["roles"][role])

    def figures(self) -> None:
        options, summary, report = self.options, self.summary, self.report
        prefix = summary["facts"]["key_prefixes"][SCENARIOS[options.scenario]]
        outcomes = self.stack.outcomes(key_prefix=prefix)
        timeline = self.stack.timeline(key_prefix=prefix)
        rows = {(r["Type"], r["Name"]): r for r in self.stats()}
        scenario_rows = [
            r for (kind, name), r in rows.items()
            if kind == "POST" and name != "transfer (socket user)" and name != "login"
        ]  # fmt: skip
        answered_ok = sum(int(r["Request Count"]) - int(r["Failure Count"]) for r in scenario_rows)
        span = summary["offered_span_seconds"] or options.duration
        offered_rate = summary["offered"] / span if span else 0.0
        achieved = answered_ok / span if span else 0.0
        main = max(scenario_rows, key=lambda r: int(r["Request Count"]), default=None)

        # Accept
        if main is not None:
            p50, p95, p99 = (float(main[k] or "nan") for k in ("50%", "95%", "99%"))
            accept_pass = None
            if options.rate >= TARGETS["accept_rate"]:
                accept_pass = (
                    achieved >= 0.98 * TARGETS["accept_rate"] and p99 <= TARGETS["accept_p99_ms"]
                )
            report.figure(
                Figure(
                    f"Accept (`{main['Name']}`)",
                    f"offered {offered_rate:,.1f}/s, achieved {achieved:,.1f}/s answered as "
                    f"expected; p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms",
                    f">= {TARGETS['accept_rate']}/s, p99 <= {TARGETS['accept_p99_ms']} ms"
                    + ("" if accept_pass is not None else " (not offered at this rate)"),
                    accept_pass,
                )
            )

        # Settlement
        settled_count = sum(outcomes.values())
        settle_rate = 0.0
        if timeline["count"] and timeline["settled"]:
            settle_rate = timeline["count"] / max(timeline["settled"] - timeline["first"], 1e-9)
        target = TARGETS["settled"].get(options.scenario)
        judged = target is not None and options.rate >= target
        report.figure(
            Figure(
                "Settled (first accept to last settlement)",
                f"{settled_count:,} transfers at {settle_rate:,.1f}/s; {dict(outcomes)}; "
                "accept -> settled p50/p95/p99 "
                + "/".join(f"{w * 1000:.0f}" for w in timeline["settle_wait"])
                + " ms",
                (f">= {target:,}/s" + ("" if judged else " (not offered at this rate)"))
                if target
                else "",
                settle_rate >= 0.98 * target if judged else None,
            )
        )
        self.scenario_checks(outcomes, report)

        # Socket
        socket_row = rows.get((LATENCY_TYPE, LATENCY_NAME))
        if socket_row is not None and int(socket_row["Request Count"]):
            p50, p95, p99 = (float(socket_row[k] or "nan") for k in ("50%", "95%", "99%"))
            over = summary["facts"].get("socket_over_1s", 0)
            count = int(socket_row["Request Count"])
            report.figure(
                Figure(
                    "POST -> transfer.updated SUCCESS on the socket",
                    f"{count:,} transfers, {int(socket_row['Failure Count']):,} failed; "
                    f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms; "
                    f"{over:,} over 1 s ({over / count:.2%})",
                    f"p50 <= {TARGETS['socket_p50_ms']} ms, p99 <= {TARGETS['socket_p99_ms']} ms "
                    "at half load",
                    p50 <= TARGETS["socket_p50_ms"] and p99 <= TARGETS["socket_p99_ms"],
                )
            )
            if options.duration >= TARGETS["sustained_seconds"]:
                report.figure(
                    Figure(
                        "Sustained",
                        f"{achieved:,.0f}/s for {options.duration}s, {over / count:.2%} over 1 s",
                        ">= 500/s for 60 min, <= 1 % over 1 s, clean audit",
                        achieved >= TARGETS["sustained_rate"]
                        and over / count <= TARGETS["sustained_over_1s"]
                        and self.audit_ok,
                    )
                )
        else:
            why = "no socket server (Procfile has no ws process)" if not self.sockets_served else (
                "no socket user ran (--sockets 0)" if not options.sockets else
                "no socket event measured: see the failures below"
            )  # fmt: skip
            report.figure(Figure("POST -> transfer.updated SUCCESS on the socket", why,
                                 "p50 <= 25 ms, p99 <= 150 ms at half load", None))  # fmt: skip
            if options.sockets and self.sockets_served:
                self.problems.append("the socket user measured nothing")

        # Drops, errors, CPU, audit
        report.figure(
            Figure(
                "Open loop",
                f"offered {summary['offered']:,}, sent {summary['sent']:,}, dropped "
                f"{summary['dropped']:,} (max {options.max_in_flight} in flight), timed out "
                f"{summary['transport_errors'].get('timed out', 0):,}; generator started a "
                f"send late by {summary['lag_max_ms']:.0f} ms at worst "
                f"({summary['lag_over_10ms']:,} sends over 10 ms late)",
            )
        )
        if summary["server_errors"]:
            self.problems.append(f"5xx answers: {summary['server_errors']}")
        report.figure(
            Figure("5xx answers", json.dumps(summary["server_errors"]) or "none", "none",
                   not summary["server_errors"])
        )  # fmt: skip
        report.figure(
            Figure(
                "Load generator CPU",
                f"{self.locust_cpu:.1f} s = {self.locust_cpu / self.wall:.0%} of a core over "
                f"{self.wall:.0f} s; other processes took {self.other_share:.0%} of the machine",
            )
        )
        report.figure(Figure("ledger_audit", self.audit_text[:400], "clean", self.audit_ok))

        report.phase("provision", f"{options.users:,} users in {self.provision_seconds:.1f}s")
        for row in sorted(rows.values(), key=lambda r: (r["Type"], r["Name"])):
            report.phase(
                f"{row['Type']} {row['Name']}",
                f"{int(row['Request Count']):,} requests, {int(row['Failure Count']):,} failed, "
                f"{float(row['Requests/s']):,.1f}/s; p50 {row['50%']} ms, p95 {row['95%']} ms, "
                f"p99 {row['99%']} ms, max {float(row['Max Response Time']):.0f} ms",
            )
        errors = self.failures()
        report.notes.append(
            "Errors by kind (locust failures): "
            + (
                "; ".join(
                    f"{e['Method']} {e['Name']}: {e['Error']} x{e['Occurrences']}" for e in errors
                )
                or "none"
            )
        )

    def scenario_checks(self, outcomes: dict, report: Report) -> None:
        """What each scenario must find in the ledger after the run."""
        scenario, facts = self.options.scenario, self.summary["facts"]
        if scenario == "hot-sender":
            accepted = sum(outcomes.values())
            success = outcomes.get("SUCCESS", 0)
            expected = min(accepted, self.hot_units)
            balance = self.balance("hot")
            exact = (
                success == expected
                and outcomes.get("insufficient_funds", 0) == accepted - expected
                and balance == f"{self.hot_units - success}.00"
            )
            self.check(
                report,
                "Hot sender: exact outcomes",
                f"{accepted:,} accepted, funds for {self.hot_units:,} at 1.00: {success:,} "
                f"SUCCESS (expected {expected:,}), balance left {balance}",
                exact,
            )
        elif scenario == "opposite":
            a, b = self.balance("a"), self.balance("b")
            total = float(a) + float(b) == 2 * float(self.options.balance)
            everything = set(outcomes) <= {"SUCCESS"}
            self.check(
                report,
                "A<->B: every transfer SUCCESS, no money lost",
                f"{dict(outcomes)}; balances A {a}, B {b}",
                total and everything,
            )
        elif scenario == "replay":
            replay = facts.get("replay", {})
            fine = (
                replay.get("keys_with_two_transfers") == 0
                and replay.get("keys_created_twice") == 0
                and sum(outcomes.values()) <= replay.get("keys_sent", 0)
            )
            self.check(
                report,
                "Replays never create a second transfer",
                f"{replay}; transfers stored for these keys: {sum(outcomes.values()):,}",
                fine,
            )
        elif scenario == "bad-input":
            wrong = {k: n for k, n in self.summary["check_failures"].items() if k.startswith("bad")}
            self.check(
                report,
                "Every bad request got its 4xx in the envelope",
                json.dumps(wrong) if wrong else "all as expected",
                not wrong,
            )

    def check(self, report: Report, name: str, measured: str, passed: bool) -> None:
        report.figure(Figure(name, measured, "exact", passed))
        if not passed:
            self.problems.append(f"{name}: {measured}")

    def write(self) -> Path:
        options = self.options
        self.report.setup = {
            **machine(),
            "Stack": (
                f"gunicorn sync -w {options.web_workers}, 1 Celery worker prefork "
                f"--concurrency {options.worker_concurrency} and beat, "
                + ("the Procfile's ws server, " if self.sockets_served else "no ws server, ")
                + f"PostgreSQL database `{self.stack.database}`, Redis db {options.redis_db}; "
                + ", ".join(f"{k}={v}" for k, v in SETTINGS.items())
                if self.own
                else f"the stack at {self.url}"
            ),
            "Load": (
                f"scenario `{options.scenario}`, {self.shape}; {options.sockets} socket users "
                f"at {options.socket_rate:g}/s together; {options.users:,} users"
            ),
            "Load generator": (
                f"locust {locust_version()} (FastHttpUser, gevent), one process on the same "
                "cores as the stack"
            ),
            "Command": (
                f"make loadtest SCENARIO={options.scenario} RATE={options.rate:g} "
                f"DURATION={options.duration}"
            ),
            "Result": "FAILED: " + "; ".join(self.problems) if self.problems else "passed",
        }
        self.report.notes.append(
            "Latencies are from each request's due moment in the open loop (so a send the "
            "generator started late counts its delay); locust's CSV and HTML beside this file "
            "carry every request type, including `WS` for POST -> socket."
        )
        path = self.results / f"{options.name}.md"
        self.report.write(path)
        return path


def locust_version() -> str:
    return importlib.metadata.version("locust")  # importing locust would monkey-patch


def main(argv=None) -> int:
    options = parse_args(argv)
    run = Run(options)

    def abort(signum, _frame):
        raise SystemExit(f"stopped by signal {signum} (time limit {options.time_limit}s)")

    signal.signal(signal.SIGTERM, abort)
    signal.signal(signal.SIGALRM, abort)
    signal.alarm(options.time_limit)
    try:
        run.start()
        run.provision()
        run.locust()
        run.drain()
        if run.own:
            run.stack.close()  # the audit sees the ledger at rest
        run.audit()
        run.figures()
    except subprocess.CalledProcessError as exc:
        print(f"a command failed: {' '.join(exc.cmd)}\n{exc.stdout}\n{exc.stderr}")
        raise
    finally:
        run.stack.close()
        signal.alarm(0)
    path = run.write()
    print(f"\n{run.report.markdown()}\n==> Report written to {path}")
    if run.problems:
        print("FAILED: " + "; ".join(run.problems), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
