"""Open-loop HTTP users for locust, and the run's tally.

locust's users are closed loops: each waits for its answer before its next request, so a
slow server quietly lowers the offered rate. `OpenLoopUser` instead schedules every request
from a load shape (`loadtests.shapes`) and sends each one on a greenlet of its own at its due
moment. Latency is reported from the due moment, so time spent waiting for a free slot
counts. When `--max-in-flight` requests are unanswered, a due request is not sent: it is
counted as dropped (and reported to locust as a failure of kind `dropped`), so an overloaded
server shows as drops, never as a lower offered rate.

The tally (offered, sent, dropped, timed out, 5xx, scheduling lag, and what the scenarios
verify) is written as JSON when locust quits, for `loadtests.run` to report and judge.
"""

import json
import os
import resource
import time
from collections import Counter
from dataclasses import dataclass, field

import gevent
import gevent.pool
from locust import FastHttpUser, task

from loadtests.envelope import error_kind
from loadtests.shapes import RampThenConstant


class Dropped(Exception):
    """Not sent: too many requests were already unanswered."""


@dataclass
class Tally:
    offered: int = 0
    sent: int = 0
    dropped: int = 0
    answered: int = 0
    transport_errors: Counter = field(default_factory=Counter)
    server_errors: Counter = field(default_factory=Counter)  # 5xx by kind: fails the run
    check_failures: Counter = field(default_factory=Counter)  # wrong content, by kind
    lag_max: float = 0.0  # seconds a send started after its due moment, at worst
    lag_over_10ms: int = 0
    first_due: float | None = None
    last_due: float | None = None
    facts: dict = field(default_factory=dict)  # what a scenario wants verified afterwards

    def document(self) -> dict:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        span = (self.last_due or 0) - (self.first_due or 0)
        return {
            "offered": self.offered,
            "offered_span_seconds": span,
            "sent": self.sent,
            "dropped": self.dropped,
            "answered": self.answered,
            "transport_errors": dict(self.transport_errors),
            "server_errors": dict(self.server_errors),
            "check_failures": dict(self.check_failures),
            "lag_max_ms": self.lag_max * 1000,
            "lag_over_10ms": self.lag_over_10ms,
            "generator_cpu_seconds": usage.ru_utime + usage.ru_stime,
            "facts": self.facts,
        }


TALLY = Tally()


def summary_write(path: str) -> None:
    with open(path, "w") as out:
        json.dump(TALLY.document(), out, indent=1, default=sorted)


def transport_kind(error: BaseException) -> str:
    name = type(error).__name__
    return "timed out" if "imeout" in name or "timed out" in str(error) else f"transport {name}"


def judge(response, check) -> str | None:
    """What is wrong with an answer (None when nothing): no answer at all, a 5xx (counted
    apart: it fails the run), or whatever the scenario's `check` finds in the content."""
    if not response.status_code:  # no answer; `error` is also set for a 4xx or 5xx
        kind = transport_kind(response.error)
        TALLY.transport_errors[kind] += 1
        return kind
    TALLY.answered += 1
    if response.status_code >= 500:
        kind = error_kind(response.status_code, response.content or b"")
        TALLY.server_errors[kind] += 1
        return f"5xx {kind}"
    problem = check(response.status_code, response.headers, response.content or b"")
    if problem:
        TALLY.check_failures[problem] += 1
    return problem


@dataclass(frozen=True)
class Call:
    """One request a scenario wants sent, and how to judge its answer."""

    name: str
    body: bytes
    headers: dict[str, str]
    check: object  # Callable[[status, headers, body], str | None]
    method: str = "POST"
    path: str = "/api/wallet/transfer/"


class OpenLoopUser(FastHttpUser):
    """Run with exactly one instance per scenario class (`fixed_count = 1`): it alone holds
    the offered rate. Subclasses implement `next_call()`."""

    abstract = True
    fixed_count = 1
    concurrency = 1024  # connections; --max-in-flight is the real limit
    connection_timeout = 5.0
    network_timeout = 10.0  # --request-timeout overrides

    def __init__(self, environment) -> None:
        options = environment.parsed_options
        self.network_timeout = options.request_timeout
        super().__init__(environment)
        self.options = options
        self.shape = RampThenConstant(options.rate, load_duration(options), options.ramp)

    def next_call(self) -> Call:
        raise NotImplementedError

    @task
    def pace(self) -> None:
        pool = gevent.pool.Pool(self.options.max_in_flight)
        start = time.perf_counter()
        for i in range(self.shape.total):
            due = start + self.shape.due(i)
            delay = due - time.perf_counter()
            if delay > 0:
                gevent.sleep(delay)
            TALLY.offered += 1
            TALLY.first_due = TALLY.first_due or due
            TALLY.last_due = due
            if pool.full():
                TALLY.dropped += 1
                self.environment.events.request.fire(
                    request_type="OPEN-LOOP",
                    name="dropped (max in flight)",
                    response_time=0,
                    response_length=0,
                    exception=Dropped(f"{self.options.max_in_flight} unanswered"),
                    context={},
                )
                continue
            pool.spawn(self.send, due)
        pool.join(timeout=self.options.request_timeout + 5)
        self.finished()
        while True:  # the shape is done; locust stops the run at --run-time
            gevent.sleep(3600)

    def finished(self) -> None:
        """After the last answer (or timeout): a scenario records what it wants verified."""

    def send(self, due: float) -> None:
        lag = time.perf_counter() - due
        TALLY.lag_max = max(TALLY.lag_max, lag)
        TALLY.lag_over_10ms += lag > 0.010
        call = self.next_call()
        TALLY.sent += 1
        with self.client.request(
            call.method,
            call.path,
            name=call.name,
            data=call.body,
            headers=call.headers,
            catch_response=True,
        ) as response:
            # From the due moment, not from the send: waiting in the generator counts too.
            response.request_meta["response_time"] = (time.perf_counter() - due) * 1000
            problem = judge(response, call.check)
            if problem:
                response.failure(problem)
            else:
                response.success()


def load_duration(options) -> float:
    return float(options.load_duration or options.run_time or 60)


def options_add(parser) -> None:
    """The custom command-line options (each also read from its LOADTEST_* variable)."""
    group = parser.add_argument_group("VaultPay open loop")
    group.add_argument(
        "--rate",
        type=float,
        env_var="LOADTEST_RATE",
        default=50.0,
        help="offered transfers per second of the scenario (open loop)",
    )
    group.add_argument(
        "--ramp",
        type=float,
        env_var="LOADTEST_RAMP",
        default=0.0,
        help="seconds over which the rate rises from 0 at the start",
    )
    group.add_argument(
        "--load-duration",
        type=float,
        env_var="LOADTEST_DURATION",
        default=0.0,
        help="seconds of offered load (default: --run-time); set --run-time a little longer "
        "so the last answers and socket events arrive",
    )
    group.add_argument(
        "--max-in-flight",
        type=int,
        env_var="LOADTEST_MAX_IN_FLIGHT",
        default=512,
        help="unanswered requests at most; a request due beyond that is dropped and counted",
    )
    group.add_argument(
        "--request-timeout",
        type=float,
        env_var="LOADTEST_REQUEST_TIMEOUT",
        default=10.0,
        help="seconds before an unanswered request counts as timed out",
    )
    group.add_argument(
        "--socket-rate",
        type=float,
        env_var="LOADTEST_SOCKET_RATE",
        default=5.0,
        help="transfers per second, all socket users together, timed POST -> socket event",
    )
    group.add_argument(
        "--summary", env_var="LOADTEST_SUMMARY", default=os.devnull,
        help="JSON file for the tally: offered, sent, dropped, 5xx, what to verify",
    )  # fmt: skip
