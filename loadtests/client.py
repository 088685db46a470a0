"""An async HTTP load driver (aiohttp on uvloop) for one process: closed loops (N clients,
each sending its next request when the last one answered) and open loops (requests sent on a
fixed schedule whether or not earlier ones answered, latency counted from the scheduled
moment so a stalled server cannot hide its queueing). Bodies are serialized before the clock
starts; every non-2xx answer and every transport error is counted by kind."""

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import aiohttp

from loadtests.envelope import error_kind


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None
    expect: int = 202  # a 2xx other than this counts as an error too


def json_request(
    method: str, path: str, token: str, payload=None, *, expect: int = 200, headers=None
) -> Request:
    headers = {"Authorization": f"Bearer {token}", **(headers or {})}
    if payload is not None:
        headers["Content-Type"] = "application/json"
    body = None if payload is None else json.dumps(payload).encode()
    return Request(method, path, headers, body, expect)


@dataclass
class Outcome:
    """What one batch of requests did. Latencies in seconds."""

    sent: int = 0
    ok: int = 0
    errors: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    dropped: int = 0  # open loop: not sent because too many were already waiting
    elapsed: float = 0.0
    client_cpu: float = 0.0  # this process's CPU seconds while the batch ran

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def error_text(self) -> str:
        return ", ".join(f"{kind} x{n}" for kind, n in self.errors.most_common()) or "none"


class Client:
    def __init__(self, base_url: str, *, connections: int) -> None:
        self.base_url = base_url
        self.connections = connections
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "Client":
        self.session = aiohttp.ClientSession(
            self.base_url,
            connector=aiohttp.TCPConnector(limit=self.connections),
            timeout=aiohttp.ClientTimeout(total=30),
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
            auto_decompress=False,
        )
        return self

    async def __aexit__(self, *exc) -> None:
        await self.session.close()

    async def fetch(self, request: Request) -> tuple[int, dict, bytes]:
        async with self.session.request(
            request.method, request.path, headers=request.headers, data=request.body
        ) as response:
            return response.status, dict(response.headers), await response.read()

    async def fetch_json(self, request: Request, expect: int = 200):
        status, _, body = await self.fetch(request)
        if status != expect:
            raise RuntimeError(f"{request.method} {request.path}: {status} {body[:300]!r}")
        return json.loads(body)

    async def _one(self, request: Request, start: float, outcome: Outcome, on_response) -> None:
        outcome.sent += 1
        try:
            status, headers, body = await self.fetch(request)
        except (aiohttp.ClientError, TimeoutError) as exc:
            outcome.errors[type(exc).__name__] += 1
            return
        outcome.latencies.append(time.perf_counter() - start)
        if status == request.expect:
            outcome.ok += 1
            if on_response is not None:
                on_response(request, headers, body)
        else:
            outcome.errors[error_kind(status, body)] += 1

    async def closed_loop(
        self,
        requests: Iterable[Request],
        *,
        clients: int,
        seconds: float | None = None,
        on_response: Callable | None = None,
    ) -> Outcome:
        """`clients` concurrent senders share `requests`, each sending its next one when the
        previous one answered; with `seconds`, none is sent after that long."""
        outcome = Outcome()
        queue = iter(requests)
        stop = None if seconds is None else time.perf_counter() + seconds

        async def sender() -> None:
            for request in queue:
                start = time.perf_counter()
                if stop is not None and start > stop:
                    return
                await self._one(request, start, outcome, on_response)

        return await _timed(outcome, asyncio.gather(*(sender() for _ in range(clients))))

    async def open_loop(
        self, requests: Iterable[Request], *, rate: float, max_in_flight: int
    ) -> Outcome:
        """Sends request i at start + i / rate; when `max_in_flight` are unanswered, the due
        request is dropped and counted rather than queued in the client."""
        outcome = Outcome()
        in_flight: set[asyncio.Task] = set()

        async def schedule() -> None:
            start = time.perf_counter()
            for i, request in enumerate(requests):
                due = start + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if len(in_flight) >= max_in_flight:
                    outcome.dropped += 1
                    continue
                task = asyncio.create_task(self._one(request, due, outcome, None))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            while in_flight:
                await asyncio.gather(*list(in_flight))

        return await _timed(outcome, schedule())


async def _timed(outcome: Outcome, work) -> Outcome:
    started, cpu = time.perf_counter(), time.process_time()
    await work
    outcome.elapsed = time.perf_counter() - started
    outcome.client_cpu = time.process_time() - cpu
    return outcome
