"""The notifications socket (protocol: docs/socket-protocol.md).

Order and completeness do not depend on live messages (realtime.live), which arrive at most
once:

1. subscribe to the user's live messages first, so nothing published from now on can be
   missed;
2. read the latest seq and, with `after_seq`, replay the stored events after it, in order,
   from PostgreSQL. Meanwhile live messages wait: a consumer handles one message at a time,
   so they queue in its inbox while `connect` runs;
3. go live: a message whose seq was already sent is dropped; one that skips seqs (live
   messages were lost, or dropped from an inbox past its limit) is preceded by the missing
   events, read from the database. A lost *last* event has no successor to reveal it: the
   process's seq refresher (realtime.process) notices it within about a second and the
   socket reads it. So a socket never sends seq n+1 before n, nor a seq twice.

Limits: a user has at most MAX_SOCKETS_PER_USER sockets open across all server processes
(the next one is closed 4429 before `hello`); a client sending more than MAX_CLIENT_MESSAGES
in CLIENT_MESSAGES_WINDOW_SECONDS, or a socket more than REALTIME_MAX_BEHIND events behind
the newest one it has heard of, is closed 4429. `ping` answers from the process's cache of
latest seqs, sending first whatever the cache knows that the socket has not sent: after a
pong, the client has every event up to its seq.

Faults: Redis unreachable at the handshake, or PostgreSQL failing a read, closes 1013 (try
again later); Redis not answering for several seconds under an open socket closes it 1012
(realtime.process). Every Redis call on the way has a short timeout, and leaving waits for
nothing unbounded, so a server can always stop.
"""

import asyncio
import logging
import time
import uuid
from collections import deque
from typing import Any, Literal, TypedDict
from urllib.parse import parse_qs

import orjson
import structlog
from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import Error as DatabaseError

from api.core.metrics.catalogue import EVENT_DELIVERY_LATENCY, EVENTS_DELIVERED
from api.core.request_id import request_id_start
from realtime import close_codes, stream
from realtime.process import CLEANUP_TIMEOUT_SECONDS, socket_server
from realtime.redis import REDIS_ERRORS
from realtime.send import PUBLISHED_AT

MAX_CLIENT_MESSAGES = 20
CLIENT_MESSAGES_WINDOW_SECONDS = 10.0

logger = logging.getLogger(__name__)
socket_logger = structlog.get_logger("vaultpay.sockets")


class HelloMessage(TypedDict):
    type: Literal["hello"]
    seq: int


class PongMessage(TypedDict):
    type: Literal["pong"]
    seq: int


class EventMessage(TypedDict):
    """A stored event as published by `realtime.send` (plus its payload, e.g. `transfer`)."""

    type: str
    seq: int


class BatchMessage(TypedDict):
    """Several messages for this user from one publication, in order (see realtime.send)."""

    type: Literal["messages.batch"]
    messages: list[EventMessage]


class SocketsCloseMessage(TypedDict):
    """Published (a deactivated user) or from the process (Redis lost)."""

    type: Literal["sockets.close", "server.close"]
    code: int


class ClientMessageRate:
    """Counts a socket's client messages; `exceeded()` once more than MAX_CLIENT_MESSAGES
    arrived within CLIENT_MESSAGES_WINDOW_SECONDS."""

    def __init__(self) -> None:
        self._times: deque[float] = deque(maxlen=MAX_CLIENT_MESSAGES + 1)

    def exceeded(self) -> bool:
        now = asyncio.get_running_loop().time()
        self._times.append(now)
        return (
            len(self._times) > MAX_CLIENT_MESSAGES
            and now - self._times[0] < CLIENT_MESSAGES_WINDOW_SECONDS
        )


class NotificationsConsumer(AsyncJsonWebsocketConsumer):
    user_id: str | None = None
    # The seq of the last event sent; None until the stream is live and after closing.
    last_sent: int | None = None
    closing = False
    # The code the socket closed with, by the server or the client (logged on leaving).
    close_code: int | None = None

    async def __call__(self, scope, receive, send) -> None:
        """As Channels' AsyncConsumer.__call__, without a channel layer: besides the client,
        messages come from `inbox`, where the process puts the user's live messages and its
        own (`seq.latest`, `server.close`); and leaving (the subscription, the registry, the
        pending receives) waits a bounded time."""
        self.scope = scope
        self.base_send = send
        # The socket's log lines carry the handshake's X-Request-ID, or an id of their own.
        request_id_start(dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin1"))
        self.opened_at = time.monotonic()
        self.socket_id = uuid.uuid4().hex
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.client_messages = ClientMessageRate()
        self.server = socket_server()
        sources = [receive, self.inbox.get]
        tasks = [asyncio.ensure_future(source()) for source in sources]
        try:
            while True:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for i, task in enumerate(tasks):
                    if task.done():
                        await self.dispatch(task.result())
                        if sources[i] == self.inbox.get:
                            # What else waits in the inbox (a fan-out burst) is handled in
                            # order without a task and a wait per message.
                            while not self.inbox.empty():
                                await self.dispatch(self.inbox.get_nowait())
                        tasks[i] = asyncio.ensure_future(sources[i]())
        except StopConsumer:
            pass
        finally:
            for task in tasks:
                task.cancel()
            socket_logger.info(
                "socket closed",
                user_id=self.user_id,
                code=self.close_code,
                open_s=round(time.monotonic() - self.opened_at, 3),
            )
            self.last_sent = None
            await self.server.socket_close(self)
            await asyncio.wait(tasks, timeout=CLEANUP_TIMEOUT_SECONDS)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """As Channels' dispatch, without closing stale database connections on every
        message (live messages touch no database, and `stream.read` manages its connection),
        and closing the socket 1013 when Redis or PostgreSQL fails a handler."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        try:
            await handler(message)
        except (*REDIS_ERRORS, DatabaseError) as error:
            logger.warning("Socket closed 1013: %s", type(error).__name__)
            await self._close(close_codes.TRY_AGAIN_LATER)

    @classmethod
    async def encode_json(cls, content: Any) -> str:
        """Frames are encoded with orjson (compact JSON, keys in insertion order), several
        times faster than the standard library for every frame of a fan-out."""
        return orjson.dumps(content).decode()

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        if self.close_code is None:
            self.close_code = message.get("code")
        raise StopConsumer  # `__call__` leaves the subscription and the registry

    async def connect(self) -> None:
        await self.accept()
        if self.scope.get("ticket_unchecked"):
            await self._close(close_codes.TRY_AGAIN_LATER)
            return
        self.user_id = self.scope.get("ticket_user_id")
        if self.user_id is None:
            await self._close(close_codes.BAD_TICKET)
            return
        query = parse_qs(
            self.scope.get("query_string", b"").decode("latin1"), keep_blank_values=True
        )
        try:
            after_seq = stream.after_seq_parse(query.get("after_seq", []))
        except ValueError:
            await self._close(close_codes.BAD_AFTER_SEQ)
            return
        if not await self.server.socket_open(self, user_id=self.user_id):
            await self._close(close_codes.TOO_MANY)
            return
        # Subscribed before reading the database; `__call__` leaves on the way out.
        await self.server.socket_listen(self)
        opening = await stream.read(stream.stream_open, user_id=self.user_id, after_seq=after_seq)
        if opening.close is not None:
            await self._close(opening.close)
            return
        self.server.seq_seen(self.user_id, opening.latest)
        hello: HelloMessage = {"type": "hello", "seq": opening.latest}
        await self.send_json(hello)
        for message in opening.replay:
            await self.send_json(message)
        EVENTS_DELIVERED.labels("replay").inc(len(opening.replay))
        self.last_sent = opening.latest
        socket_logger.info(
            "socket opened", user_id=self.user_id, seq=opening.latest, replayed=len(opening.replay)
        )

    # Client -> server ------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        """`{"type": "ping"}` -> pong; anything else, malformed JSON included, is ignored
        (but counted)."""
        if self.closing:
            return
        if self.client_messages.exceeded():
            await self._close(close_codes.TOO_MANY)
            return
        if self.last_sent is None or text_data is None:
            return
        try:
            content = orjson.loads(text_data)
        except ValueError:
            return
        if isinstance(content, dict) and content.get("type") == "ping":
            await self._pong()

    async def _pong(self) -> None:
        latest = self.server.seq_latest(self.user_id)
        if latest > self.last_sent and not await self._fill(through_seq=latest, newest=latest):
            return
        pong: PongMessage = {"type": "pong", "seq": self.last_sent}
        await self.send_json(pong)

    # Live messages -> server: one handler per message type ---------------------------------

    async def transfer_updated(self, message: EventMessage) -> None:
        await self._deliver(message)

    async def balance_updated(self, message: EventMessage) -> None:
        await self._deliver(message)

    async def messages_batch(self, batch: BatchMessage) -> None:
        published_at = batch.get(PUBLISHED_AT)
        for message in batch["messages"]:
            # A copy: the process hands one decoded message to each of the user's sockets.
            await self.dispatch({**message, PUBLISHED_AT: published_at})

    async def sockets_close(self, message: SocketsCloseMessage) -> None:
        """The user was deactivated."""
        await self._close(message["code"])

    # The process -> server ---------------------------------------------------------------------

    async def server_close(self, message: SocketsCloseMessage) -> None:
        """Redis was lost."""
        await self._close(message["code"])

    async def seq_latest(self, message: dict[str, Any]) -> None:
        """The process's refresher found a newer stored seq than the last one sent."""
        self.server.nudge_done(self)
        if self.last_sent is None:
            return
        latest = self.server.seq_latest(self.user_id)
        if latest > self.last_sent:
            await self._fill(through_seq=latest, newest=latest)

    async def _deliver(self, message: EventMessage) -> None:
        if self.last_sent is None:
            return
        seq = message["seq"]
        if seq <= self.last_sent:
            return  # replayed or filled already
        if seq > self.last_sent + 1 and not await self._fill(through_seq=seq - 1, newest=seq):
            return
        # The publisher's stamp is not the client's: sent without it (a copy, as the message
        # may be shared with the user's other sockets).
        published_at = message.get(PUBLISHED_AT)
        await self.send_json({k: v for k, v in message.items() if k != PUBLISHED_AT})
        self.last_sent = seq
        self.server.seq_seen(self.user_id, seq)
        EVENTS_DELIVERED.labels("live").inc()
        if published_at is not None:
            EVENT_DELIVERY_LATENCY.observe(max(time.time() - published_at, 0.0))

    async def _fill(self, *, through_seq: int, newest: int) -> bool:
        """Sends the stored events after the last one sent, through `through_seq`; False
        when the socket was closed instead: 4429 when the `newest` seq known is more than
        REALTIME_MAX_BEHIND ahead of the last one sent, 4410 when events were purged."""
        if newest - self.last_sent > settings.REALTIME_MAX_BEHIND:
            await self._close(close_codes.TOO_MANY)
            return False
        messages = await stream.read(
            stream.events_between,
            user_id=self.user_id,
            after_seq=self.last_sent,
            through_seq=through_seq,
        )
        if messages is None:
            await self._close(close_codes.TOO_OLD)
            return False
        for message in messages:
            await self.send_json(message)
        EVENTS_DELIVERED.labels("fill").inc(len(messages))
        self.last_sent = through_seq
        return True

    async def _close(self, code: int) -> None:
        self.last_sent = None
        if not self.closing:
            self.closing = True
            self.close_code = code
            await self.close(code=code)
