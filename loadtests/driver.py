"""The one load driver: asyncio + aiohttp on uvloop, one process, thousands of requests a
second on two cores.

    async with Driver(stack.base_url, max_in_flight=512, request_timeout=10,
                      retries=Retries(attempts=3), history=History(path)) as driver:
        tally = await driver.open_loop(scenario.next_request, RampThenConstant(50, 30, 3))
        tally = await driver.closed_loop(requests, clients=32)
        answer = await driver.fetch(request)          # one request, recorded, not tallied
    run(main())                                       # on uvloop

A `Request` names what it is (`name`), its method and path, its `sender` (a data.Wallet: the
`Authorization` header carries the wallet's access token as it is at send time, so refreshed
tokens are picked up), its body (a dict sent as JSON, or raw bytes), its Idempotency-Key,
and `check(answer) -> problem or None` (default: any non-2xx is a problem).

Open loop: request i is due at start + shape.due(i) and is sent then, whatever earlier
requests are doing; latency counts from the due moment (a send started late counts its
delay, and is counted as late when over 10 ms). When `max_in_flight` operations are
unanswered, a due request is dropped and counted, never queued. An operation is all the
attempts of one request: with `Retries(attempts=n)`, a request that got no answer (timeout,
connection error), a 429 or a 503 with one of `Retries.codes` is sent again with the same key
and body, after its Retry-After (or a short backoff), at most n attempts in all.

With a `History`, every attempt, its answer or the lack of one, and every drop is written to
it (see loadtests/history.py) as it happens.
"""

import asyncio
import itertools
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

import aiohttp
import uvloop

from loadtests.envelope import error_code
from loadtests.history import History

LATE = 0.010  # a send started this long after its due moment is late
_OPS = itertools.count(1)  # operation numbers, unique across the drivers of a process


@dataclass(frozen=True)
class Retries:
    attempts: int = 1  # 1: no retry
    codes: frozenset[str] = frozenset({"service_unavailable"})  # 503 codes worth retrying
    max_wait: float = 5.0

    def wait(self, answer: "Answer | None", attempt: int) -> float:
        """Seconds before the next attempt: the answer's Retry-After, else a backoff."""
        after = answer.retry_after if answer is not None else None
        backoff = 0.2 * 2 ** (attempt - 1)
        return min(self.max_wait, after if after is not None else backoff)


@dataclass(eq=False)
class Request:
    name: str
    method: str
    path: str
    sender: object = None  # a data.Wallet, or None: no Authorization header
    body: dict | bytes | None = None
    key: str | None = None
    check: Callable[["Answer"], str | None] | None = None
    secret_body: bool = False  # the body carries a credential: not recorded
    headers: dict[str, str] = field(default_factory=dict)
    due: float = 0.0  # perf_counter of the operation's due moment, set when it is sent

    def payload(self) -> bytes | None:
        if isinstance(self.body, dict):
            return json.dumps(self.body).encode()
        return self.body

    def all_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.body is not None:
            headers.setdefault("Content-Type", "application/json")
        if self.sender is not None:
            headers["Authorization"] = f"Bearer {self.sender.access}"
        if self.key is not None:
            headers["Idempotency-Key"] = self.key
        return headers

    def recorded_body(self) -> dict:
        if self.secret_body or self.body is None:
            return {}
        return self.body if isinstance(self.body, dict) else {"bytes": len(self.body)}


@dataclass(eq=False)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    at: float  # wall clock

    @cached_property
    def document(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @cached_property
    def code(self) -> str | None:
        """The error envelope's code (None for a 2xx or a malformed envelope)."""
        return error_code(self.body) if self.status >= 300 else None

    @property
    def kind(self) -> str:
        """`202`, `400 validation_error`, `503 not an error envelope`: status and code."""
        if self.status < 300:
            return str(self.status)
        return f"{self.status} {self.code or 'not an error envelope'}"

    @property
    def retry_after(self) -> float | None:
        try:
            return float(self.headers.get("Retry-After", ""))
        except ValueError:
            return None

    @property
    def transfer(self) -> dict | None:
        """The transfer a 2xx answer carries (`id`, `status`, ...), or None."""
        document = self.document
        ok = self.status < 300 and isinstance(document, dict) and "id" in document
        return document if ok and "status" in document else None


@dataclass
class Tally:
    """What a batch of operations did. Times in seconds."""

    offered: int = 0
    sent: int = 0  # operations with at least one attempt
    attempts: int = 0
    retries: int = 0
    dropped: int = 0  # due while max_in_flight were unanswered: never sent
    answered: int = 0  # operations whose last attempt got an answer
    ok: int = 0  # ... that passed its check
    statuses: Counter = field(default_factory=Counter)  # answer kinds of operations
    no_answer: Counter = field(default_factory=Counter)  # operations never answered, by error
    server_errors: Counter = field(default_factory=Counter)  # every 5xx attempt, by kind
    check_failures: Counter = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    late: int = 0
    lag_max: float = 0.0
    first_due: float | None = None
    last_due: float | None = None
    elapsed: float = 0.0
    client_cpu: float = 0.0  # this process's CPU seconds meanwhile

    @property
    def span(self) -> float:
        """From the first due moment to the last (open loop), else the elapsed time."""
        if self.first_due is not None and self.last_due is not None and self.offered > 1:
            return self.last_due - self.first_due
        return self.elapsed

    @property
    def offered_rate(self) -> float:
        return self.offered / self.span if self.span else 0.0

    @property
    def rate(self) -> float:
        """Operations answered as expected per second, over the offered span."""
        return self.ok / self.span if self.span else 0.0

    def all_latencies(self) -> list[float]:
        return [v for values in self.latencies.values() for v in values]

    def percentile(self, p: float, name: str | None = None) -> float:
        values = self.latencies.get(name, []) if name else self.all_latencies()
        return percentile(values, p)

    def errors(self) -> Counter:
        """Every way an operation went wrong: no answer, a failed check."""
        return self.no_answer + self.check_failures

    def error_text(self) -> str:
        return ", ".join(f"{kind} x{n}" for kind, n in self.errors().most_common()) or "none"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def default_check(answer: Answer) -> str | None:
    return None if answer.status < 300 else answer.kind


class Driver:
    def __init__(
        self,
        base_url: str,
        *,
        max_in_flight: int = 512,
        request_timeout: float = 10.0,
        retries: Retries = Retries(),
        history: History | None = None,
    ) -> None:
        self.base_url = base_url
        self.max_in_flight = max_in_flight
        self.request_timeout = request_timeout
        self.retries = retries
        self.history = history
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "Driver":
        self.session = aiohttp.ClientSession(
            self.base_url,
            connector=aiohttp.TCPConnector(limit=self.max_in_flight),
            timeout=aiohttp.ClientTimeout(total=self.request_timeout),
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
            auto_decompress=False,
        )
        return self

    async def __aexit__(self, *exc) -> None:
        await self.session.close()

    def _record(self, line: dict) -> None:
        if self.history is not None:
            self.history.record(line)

    # One request ----------------------------------------------------------------------------

    async def _attempt(
        self, op: int, attempt: int, request: Request, due: float
    ) -> tuple[Answer | None, str | None]:
        base = {"op": op, "attempt": attempt}
        if self.history is not None:
            self.history.record(
                {
                    "t": "send", **base, "name": request.name, "method": request.method,
                    "path": request.path, "key": request.key,
                    "sender": getattr(request.sender, "email", None),
                    "body": request.recorded_body(), "due": due, "at": time.time(),
                }
            )  # fmt: skip
        try:
            async with self.session.request(
                request.method, request.path, headers=request.all_headers(), data=request.payload()
            ) as response:
                body = await response.read()
                answer = Answer(response.status, dict(response.headers), body, time.time())
        except TimeoutError:
            self._record({"t": "no_answer", **base, "error": "timed out", "at": time.time()})
            return None, "timed out"
        except aiohttp.ClientError as exc:
            error = f"transport {type(exc).__name__}"
            self._record({"t": "no_answer", **base, "error": error, "at": time.time()})
            return None, error
        if self.history is not None:
            transfer = answer.transfer or {}
            self.history.record(
                {
                    "t": "answer", **base, "status": answer.status, "code": answer.code,
                    "retry_after": answer.retry_after, "transfer_id": transfer.get("id"),
                    "transfer_status": transfer.get("status"),
                    "replayed": answer.headers.get("Idempotent-Replayed") == "true",
                    "at": answer.at,
                }
            )  # fmt: skip
        return answer, None

    def _retriable(self, answer: Answer | None) -> bool:
        """No answer, a 429 (throttled: wait its Retry-After) or a 503 of `Retries.codes`."""
        if answer is None or answer.status == 429:
            return True
        return answer.status == 503 and answer.code in self.retries.codes

    async def _operation(self, op: int, request: Request, due: float, tally: Tally) -> None:
        """All attempts of one request; latency from `due` (perf_counter) to the last answer."""
        request.due = due
        lag = time.perf_counter() - due
        tally.lag_max = max(tally.lag_max, lag)
        tally.late += lag > LATE
        tally.sent += 1
        due_wall = time.time() - lag
        for attempt in range(1, self.retries.attempts + 1):
            tally.attempts += 1
            answer, error = await self._attempt(op, attempt, request, due_wall)
            if answer is not None and answer.status >= 500:
                tally.server_errors[answer.kind] += 1
            if attempt == self.retries.attempts or not self._retriable(answer):
                break
            tally.retries += 1
            await asyncio.sleep(self.retries.wait(answer, attempt))
        if answer is None:
            tally.no_answer[error] += 1
            return
        tally.answered += 1
        tally.statuses[answer.kind] += 1
        problem = (request.check or default_check)(answer)
        if problem:
            tally.check_failures[problem] += 1
            return
        tally.ok += 1
        tally.latencies[request.name].append(time.perf_counter() - due)

    async def fetch(self, request: Request) -> Answer:
        """One request, one attempt, recorded in the history; no answer raises RuntimeError."""
        answer, error = await self._attempt(next(_OPS), 1, request, time.time())
        if answer is None:
            raise RuntimeError(f"{request.method} {request.path}: {error}")
        return answer

    async def fetch_json(self, request: Request, expect: int = 200):
        answer = await self.fetch(request)
        if answer.status != expect:
            raise RuntimeError(f"{request.method} {request.path}: {answer.kind}")
        return answer.document

    # Loops ----------------------------------------------------------------------------------

    async def open_loop(self, next_request: Callable[[], Request], shape) -> Tally:
        """Request i (`next_request()`, called when it is due) at start + shape.due(i), for
        i < shape.total; returns when the last operation has ended."""
        tally = Tally()
        in_flight: set[asyncio.Task] = set()

        async def schedule() -> None:
            start = time.perf_counter()
            wall = time.time()
            for i in range(shape.total):
                due = start + shape.due(i)
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tally.offered += 1
                tally.first_due = tally.first_due or due
                tally.last_due = due
                op = next(_OPS)
                request = next_request()
                if len(in_flight) >= self.max_in_flight:
                    tally.dropped += 1
                    self._record(
                        {"t": "dropped", "op": op, "name": request.name, "due": wall + due - start}
                    )
                    continue
                task = asyncio.create_task(self._operation(op, request, due, tally))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            while in_flight:
                await asyncio.gather(*list(in_flight))

        return await _timed(tally, schedule())

    async def closed_loop(
        self, requests: Iterable[Request], *, clients: int, seconds: float | None = None
    ) -> Tally:
        """`clients` senders share `requests`, each sending its next one when the previous
        one ended; with `seconds`, none is sent after that long."""
        tally = Tally()
        queue = iter(requests)
        stop = None if seconds is None else time.perf_counter() + seconds

        async def sender() -> None:
            for request in queue:
                start = time.perf_counter()
                if stop is not None and start > stop:
                    return
                tally.offered += 1
                await self._operation(next(_OPS), request, start, tally)

        return await _timed(tally, asyncio.gather(*(sender() for _ in range(clients))))


async def _timed(tally: Tally, work) -> Tally:
    started, cpu = time.perf_counter(), time.process_time()
    await work
    tally.elapsed = time.perf_counter() - started
    tally.client_cpu = time.process_time() - cpu
    return tally


def run(coroutine):
    """Runs `coroutine` on a uvloop event loop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)
