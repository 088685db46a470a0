"""WebSocket users of the load runs (the `websockets` client on the driver's event loop).

    tally = SocketTally()
    socket = Socket(driver, wallet, tally=tally, on_event=delivery.on_event)
    await socket.open()        # ticket over REST, the socket at the ticket's url, `hello`
    await socket.reopen()      # close, new ticket, reconnect with after_seq = last seq seen
    seq = await socket.sync()  # ping; the pong's seq (everything stored up to it was sent)
    await socket.close()

Every frame is checked: an event whose seq is not the last one + 1 counts as a gap (the
seqs skipped) or, when not above the last, a duplicate. A socket the server closes (or
that cannot connect, the socket server being down) reconnects by itself with a new ticket
and `after_seq`, with a short backoff, until `close()`. With the driver's history, every
open, frame and close is recorded (loadtests/history.py).

`Delivery` times POST -> `transfer.updated` on the sender's socket: `expect(id, due)` when
the POST is accepted, `on_event` for each frame, `wait(ids)` for the latencies.
`SocketFleet` runs one socket per user in a process of its own and time-stamps each
transfer's SUCCESS on its sender's socket (the open-loop benchmark, hundreds of sockets).
"""

import asyncio
import contextlib
import itertools
import multiprocessing
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from loadtests.data import Wallet
from loadtests.driver import Driver, Request, run

TICKET_PATH = "/api/realtime/ticket/"
EVENT_TYPES = ("transfer.updated", "balance.updated")
OPEN_TIMEOUT = 30.0
START_OVER = 4410  # after_seq too far behind: reconnect without it (a known gap)
GIVE_UP = {4400, 4401}  # a bad or refused ticket: reconnecting cannot help


@dataclass
class SocketTally:
    """What every socket saw, across its reconnections."""

    events: int = 0
    gaps: int = 0  # seqs skipped
    duplicates: int = 0
    opened: int = 0
    reconnects: int = 0
    closes: Counter = field(default_factory=Counter)  # close codes, from the server or none


class Socket:
    _numbers = itertools.count(1)

    def __init__(self, driver: Driver, wallet, *, tally: SocketTally, on_event=None) -> None:
        self.driver, self.wallet, self.tally, self.on_event = driver, wallet, tally, on_event
        self.number = next(self._numbers)
        self.last_seq: int | None = None
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.pong: asyncio.Future | None = None
        self.hello: asyncio.Future | None = None
        self.closing = False

    def _record(self, line: dict) -> None:
        if self.driver.history is not None:
            self.driver.history.record(
                {**line, "socket": self.number, "user": self.wallet.email, "at": time.time()}
            )

    async def open(self) -> None:
        """A ticket, the socket, then `hello` (all bounded); raises when any fails."""
        ticket = await self.driver.fetch_json(
            Request("realtime ticket", "POST", TICKET_PATH, sender=self.wallet)
        )
        url = f"{ticket['url']}?ticket={ticket['ticket']}"
        if self.last_seq is not None:
            url += f"&after_seq={self.last_seq}"
        # A socket the server closes before its `hello` (1013 when the server's Redis is
        # slow) reconnects by itself; that reconnection's `hello` ends this wait too.
        if self.hello is None or self.hello.done():
            self.hello = asyncio.get_running_loop().create_future()
        hello = self.hello
        # No Origin header: a command-line client.
        self.ws = await connect(
            url, open_timeout=OPEN_TIMEOUT, max_queue=None, compression=None, origin=None
        )
        self._record({"t": "ws_open", "after_seq": self.last_seq})
        self.tally.opened += 1
        self.reader = asyncio.create_task(self._read(self.ws))
        await asyncio.wait_for(asyncio.shield(hello), OPEN_TIMEOUT)

    async def reopen(self) -> None:
        """Closes this socket and reconnects with after_seq, as a client that lost it."""
        ws, reader = self.ws, self.reader
        self.ws = None
        await ws.close()
        await reader
        self.tally.reconnects += 1
        await self.open()

    async def _read(self, ws) -> None:
        error = None
        try:
            async for raw in ws:
                self._frame(orjson.loads(raw))
        except ConnectionClosed as exc:
            error = type(exc).__name__
        code = ws.close_code
        self._record({"t": "ws_closed", "code": code, "error": error})
        if ws is not self.ws or self.closing:
            return  # closed by reopen() or close()
        self.tally.closes[code] += 1
        if code in GIVE_UP:
            return
        if code == START_OVER:
            self.last_seq = None
        await self._reconnect()

    async def _reconnect(self) -> None:
        """After the server closed the socket: again and again, with backoff, until open."""
        delay = 0.1
        while not self.closing:
            await asyncio.sleep(delay)
            try:
                self.tally.reconnects += 1
                await self.open()
                return
            except (OSError, TimeoutError, InvalidHandshake, InvalidStatus, RuntimeError) as exc:
                self._record({"t": "ws_closed", "code": None, "error": type(exc).__name__})
                delay = min(2.0, delay * 2)

    def _frame(self, message: dict) -> None:
        now = time.perf_counter()
        self._record({"t": "ws_frame", "frame": message})
        kind, seq = message.get("type"), message.get("seq")
        if kind == "hello":
            if self.last_seq is None:
                self.last_seq = seq
            if not self.hello.done():
                self.hello.set_result(None)
            return
        if kind == "pong":
            if self.pong is not None and not self.pong.done():
                self.pong.set_result(seq)
            return
        if kind not in EVENT_TYPES:
            return
        if seq <= self.last_seq:
            self.tally.duplicates += 1
            return
        self.tally.gaps += seq - self.last_seq - 1
        self.tally.events += 1
        self.last_seq = seq
        if self.on_event is not None:
            self.on_event(self, message, now)

    async def sync(self) -> int:
        """Ping; the pong comes after everything stored up to its seq."""
        self.pong = asyncio.get_running_loop().create_future()
        await self.ws.send('{"type": "ping"}')
        return await asyncio.wait_for(self.pong, OPEN_TIMEOUT)

    async def close(self) -> None:
        self.closing = True
        ws, self.ws = self.ws, None
        if ws is not None:
            await ws.close()
        if self.reader is not None:
            await self.reader


# How long a run's final ping of each socket may wait for it to be open and answer.
SYNC_TIMEOUT = 30.0


async def synced(socket: Socket, timeout: float = SYNC_TIMEOUT) -> bool:
    """Pings once the socket is open (it may be reconnecting); True when it answered within
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if socket.ws is not None and socket.hello is not None and socket.hello.done():
            with contextlib.suppress(ConnectionClosed, TimeoutError):
                await socket.sync()
                return True
        await asyncio.sleep(0.2)
    return False


async def open_all(sockets: list[Socket], parallel: int = 50) -> list[Socket]:
    gate = asyncio.Semaphore(parallel)

    async def one(socket: Socket) -> None:
        async with gate:
            await socket.open()

    await asyncio.gather(*(one(s) for s in sockets))
    return sockets


class Delivery:
    """POST -> `transfer.updated` on the sender's socket: latency from the POST's due moment
    (perf_counter) to the final event's arrival; a FAILED outcome is counted apart."""

    def __init__(self) -> None:
        self.due: dict[str, float] = {}
        self.arrived: dict[str, float] = {}
        self.failed: Counter = Counter()

    def expect(self, transfer_id: str, due: float) -> None:
        self.due[transfer_id] = due

    def on_event(self, socket: Socket, message: dict, now: float) -> None:
        if message["type"] != "transfer.updated":
            return
        transfer = message["transfer"]
        if transfer["sender"]["email"] != socket.wallet.email:
            return
        if transfer["status"] == "SUCCESS":
            self.arrived.setdefault(transfer["id"], now)
        elif transfer["status"] == "FAILED":
            self.failed[transfer.get("failure_code")] += 1

    async def wait(self, ids: list[str], timeout: float) -> list[float]:
        """Waits until every id's SUCCESS arrived (or `timeout`); returns the latencies of
        those that did, in seconds."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and not all(i in self.arrived for i in ids):
            await asyncio.sleep(0.05)
        return [self.arrived[i] - self.due[i] for i in ids if i in self.arrived]


class SocketFleet:
    """Socket users in a process of their own, so that their frames (several per transfer,
    across hundreds of sockets) do not delay the sends of the open loop in the driver's
    process. One socket per wallet; every frame's seq is checked there; the SUCCESS of each
    transfer on its sender's socket is time-stamped (wall clock) and collected by id.

        fleet = SocketFleet(base_url, wallets)   # starts the process, opens every socket
        fleet.token(wallet)                      # a refreshed access token, for reconnects
        arrived = fleet.collect()                # {transfer id: wall clock of its SUCCESS}
        tally, failed = fleet.close()            # SocketTally, FAILED outcomes by code

    Every wait is bounded; the process is killed if it does not answer."""

    def __init__(self, base_url: str, wallets: list, timeout: float = 300) -> None:
        context = multiprocessing.get_context("spawn")  # no inherited event loop or sockets
        self.connection, child = context.Pipe()
        users = [(w.email, w.access) for w in wallets]
        self.process = context.Process(
            target=_fleet_main, args=(child, base_url, users), name="socket-fleet", daemon=True
        )
        self.process.start()
        child.close()
        self._answer(timeout)  # every socket open

    def _answer(self, timeout: float = 60):
        if not self.connection.poll(timeout):
            self.process.kill()
            raise TimeoutError("the socket process did not answer")
        kind, value = self.connection.recv()
        if kind == "error":
            self.process.kill()
            raise RuntimeError(f"socket process: {value}")
        return value

    def token(self, wallet) -> None:
        self.connection.send(("token", (wallet.email, wallet.access)))

    def collect(self) -> dict[str, float]:
        """The SUCCESS arrivals since the last collect."""
        self.connection.send(("collect", None))
        return self._answer()

    def close(self) -> tuple[SocketTally, Counter]:
        self.connection.send(("close", None))
        try:
            return self._answer()
        finally:
            self.process.join(10)
            if self.process.is_alive():
                self.process.kill()


def _fleet_main(connection, base_url: str, users: list[tuple[str, str]]) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        tally, failed = SocketTally(), Counter()
        arrived: dict[str, float] = {}
        wallets = {email: Wallet(email, access) for email, access in users}

        def on_event(socket: Socket, message: dict, _now: float) -> None:
            if message["type"] != "transfer.updated":
                return
            transfer = message["transfer"]
            if transfer["sender"]["email"] != socket.wallet.email:
                return
            if transfer["status"] == "SUCCESS":
                arrived.setdefault(transfer["id"], time.time())
            elif transfer["status"] == "FAILED":
                failed[transfer.get("failure_code")] += 1

        # Commands are read on a thread: the event loop's readers make their descriptor
        # non-blocking, and a large answer on the same pipe would then fail half-written.
        commands: asyncio.Queue = asyncio.Queue()

        def receive() -> None:
            while True:
                try:
                    command = connection.recv()
                except EOFError:  # the parent is gone
                    command = ("close", None)
                loop.call_soon_threadsafe(commands.put_nowait, command)
                if command[0] == "close":
                    return

        threading.Thread(target=receive, daemon=True).start()
        async with Driver(base_url, max_in_flight=64) as driver:
            sockets = [Socket(driver, w, tally=tally, on_event=on_event) for w in wallets.values()]
            try:
                await open_all(sockets)
            except Exception as exc:  # reported to the parent, which raises it
                connection.send(("error", f"{type(exc).__name__}: {exc}"))
                return
            connection.send(("opened", len(sockets)))
            while True:
                kind, value = await commands.get()
                if kind == "token":
                    wallets[value[0]].access = value[1]
                elif kind == "collect":
                    connection.send(("arrived", dict(arrived)))
                    arrived.clear()
                elif kind == "close":
                    await asyncio.gather(*(s.close() for s in sockets))
                    connection.send(("closed", (tally, failed)))
                    return

    run(main())
