"""The WebSocket user: POST -> `transfer.updated` SUCCESS latency, end to end.

Each `SocketUser` logs in as one of the population's socket users, takes a ticket
(`POST /api/realtime/ticket/`), opens the socket at the ticket's `url` and reads `hello`. It
then pays random members of the crowd at its share of `--socket-rate`, and a reader greenlet
matches each `transfer.updated` it receives to the POST that caused it. locust gets one
request of type `WS`, name `POST -> transfer.updated SUCCESS`, per transfer: its response time
is from just before the POST to the SUCCESS event's arrival, so the CSV and HTML report carry
it next to the HTTP figures. A FAILED event, no event within `--request-timeout`, a seq
out of order, or a closed socket are failures of that request type.

websocket-client is a blocking client over the standard socket module, which locust's
gevent monkey-patching makes cooperative.
"""

import itertools
import json
import random
import time

import gevent
import websocket
from locust import FastHttpUser, task

from loadtests.behaviour import accepted_check, login, readiness_check
from loadtests.data import Keys, Population, transfer_body
from loadtests.names import LATENCY_NAME, LATENCY_TYPE
from loadtests.openloop import TALLY, judge, load_duration

TICKET_PATH = "/api/realtime/ticket/"
_numbers = itertools.count()


class SocketUser(FastHttpUser):
    network_timeout = 10.0
    connection_timeout = 5.0

    def on_start(self) -> None:
        options = self.environment.parsed_options
        self.timeout = options.request_timeout
        self.population = Population.load()
        sockets = self.population.sockets
        if not sockets:
            raise RuntimeError("the users file has no socket users (provision with --sockets)")
        self.wallet = sockets[next(_numbers) % len(sockets)]
        self.keys = Keys("ws")
        self.rng = random.Random()  # noqa: S311 - load, not secrets
        TALLY.facts.setdefault("key_prefixes", {}).setdefault("SocketUser", "ws-")
        # Every user but the scenario's single open-loop user is a SocketUser.
        users = max(1, (options.num_users or 2) - 1)
        self.interval = users / options.socket_rate if options.socket_rate > 0 else None
        self.stop_at = time.monotonic() + load_duration(options)
        self.sent: dict[str, float] = {}  # transfer id -> perf_counter before its POST
        self.early: dict[str, tuple[float, dict]] = {}  # events that beat their POST's answer
        self.last_seq = 0
        self.socket = self.reader = None
        self.stopping = False
        readiness_check(self.client)
        self.token = login(self.client, self.wallet.email, self.population.password)
        if self.token:
            self.connect(after_seq=None)

    def on_stop(self) -> None:
        self.stopping = True  # the socket closes now: not a failure
        self.settle_pending(give_up_after=0, why="no transfer.updated before the run ended")
        if self.reader is not None:
            self.reader.kill(block=False)
        if self.socket is not None:
            self.socket.close()

    # The socket -----------------------------------------------------------------------------

    def connect(self, *, after_seq: int | None) -> None:
        """Ticket, then the socket; `hello` must come first."""
        started = time.perf_counter()
        with self.client.post(
            TICKET_PATH,
            name="realtime ticket",
            headers={"Authorization": f"Bearer {self.token}"},
            catch_response=True,
        ) as response:
            try:
                ticket = json.loads(response.content)
                url = f"{ticket['url']}?ticket={ticket['ticket']}"
            except (ValueError, KeyError, TypeError):
                response.failure(f"no ticket: HTTP {response.status_code}")
                return
        if after_seq is not None:
            url += f"&after_seq={after_seq}"
        try:
            # No Origin header: a command-line client (CONTRACT section 5).
            self.socket = websocket.create_connection(
                url, timeout=self.timeout, suppress_origin=True
            )
            hello = json.loads(self.socket.recv())
            if hello.get("type") != "hello" or not isinstance(hello.get("seq"), int):
                raise ValueError(f"first message {hello.get('type')!r}, not hello")
        except (OSError, ValueError, websocket.WebSocketException) as exc:
            self.fire("connect", started, f"socket: {type(exc).__name__} {exc}"[:120])
            self.socket = None
            return
        self.fire("connect", started, None)
        self.socket.settimeout(None)  # quiet stretches are normal; the reader just waits
        if after_seq is None:
            self.last_seq = hello["seq"]
        self.reader = gevent.spawn(self.read)

    def read(self) -> None:
        while True:
            try:
                message = json.loads(self.socket.recv())
            except (OSError, ValueError, websocket.WebSocketException) as exc:
                if self.stopping:
                    return
                self.fire(
                    LATENCY_NAME,
                    time.perf_counter(),
                    f"socket closed at {time.time():.0f}: {type(exc).__name__} {exc}"[:100],
                )
                self.socket = None
                return
            seq = message.get("seq")
            if message.get("type") in ("transfer.updated", "balance.updated"):
                if seq != self.last_seq + 1:
                    self.fire("event order", time.perf_counter(), "seq out of order")
                self.last_seq = max(self.last_seq, seq or 0)
            if message.get("type") == "transfer.updated":
                self.on_transfer(message["transfer"])

    def on_transfer(self, transfer: dict) -> None:
        if transfer.get("sender", {}).get("email") != self.wallet.email:
            return  # a payment to this user
        if transfer["status"] not in ("SUCCESS", "FAILED"):
            return
        arrived = time.perf_counter()
        started = self.sent.pop(transfer["id"], None)
        if started is None:
            self.early[transfer["id"]] = (arrived, transfer)
            return
        self.report(started, arrived, transfer)

    def report(self, started: float, arrived: float, transfer: dict) -> None:
        failure = None
        if transfer["status"] != "SUCCESS":
            failure = f"{transfer['status']} {transfer.get('failure_code')}"
        self.fire(LATENCY_NAME, started, failure, now=arrived)

    def fire(self, name: str, started: float, failure: str | None, now=None) -> None:
        milliseconds = ((now or time.perf_counter()) - started) * 1000
        if name == LATENCY_NAME and milliseconds > 1000:  # a late event or none at all
            TALLY.facts["socket_over_1s"] = TALLY.facts.get("socket_over_1s", 0) + 1
        self.environment.events.request.fire(
            request_type=LATENCY_TYPE,
            name=name,
            response_time=milliseconds,
            response_length=0,
            exception=None if failure is None else Exception(failure),
            context={},
        )

    # Paying ---------------------------------------------------------------------------------

    @task
    def pay(self) -> None:
        if self.interval is None or time.monotonic() > self.stop_at:
            self.settle_pending(give_up_after=self.timeout)
            gevent.sleep(1)
            return
        next_at = time.monotonic() + self.interval
        if self.socket is None and self.token:
            self.connect(after_seq=self.last_seq)
        if self.socket is not None:
            self.send_one()
        self.settle_pending(give_up_after=self.timeout)
        gevent.sleep(max(0.0, next_at - time.monotonic()))

    def send_one(self) -> None:
        receiver = self.rng.choice(self.population.crowd)
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Idempotency-Key": self.keys.next(),
        }
        ids = []
        check = accepted_check(receiver, "1.00", on_id=ids.append)
        started = time.perf_counter()
        with self.client.post(
            "/api/wallet/transfer/",
            name="transfer (socket user)",
            data=transfer_body(receiver, "1.00"),
            headers=headers,
            catch_response=True,
        ) as response:
            problem = judge(response, check)
            if problem:
                response.failure(problem)
                return
            response.success()
        transfer_id = ids[0]
        if transfer_id in self.early:
            arrived, transfer = self.early.pop(transfer_id)
            self.report(started, arrived, transfer)
        else:
            self.sent[transfer_id] = started

    def settle_pending(self, *, give_up_after: float, why: str = "") -> None:
        """Transfers whose event has not come within `give_up_after` seconds fail."""
        why = why or f"no transfer.updated within {give_up_after:g} s"
        now = time.perf_counter()
        for transfer_id, started in list(self.sent.items()):
            if now - started >= give_up_after:
                del self.sent[transfer_id]
                self.fire(LATENCY_NAME, started, why)
