"""The notifications socket (contract section 5).

Order and completeness do not depend on the channel layer, which delivers at most once:

1. join the user's group first, so nothing published from now on can be missed;
2. read the latest seq and, with `after_seq`, replay the stored events after it, in order,
   from PostgreSQL. Meanwhile live messages wait: a consumer handles one message at a time,
   so group messages queue in the channel layer's buffer while `connect` runs;
3. go live: a message whose seq was already sent is dropped; one that skips seqs (the
   channel layer dropped some past its capacity, or they expired) is preceded by the missing
   events, read from the database. So a socket never sends seq n+1 before n, nor a seq twice.

A socket more than REALTIME_MAX_BEHIND events behind the newest one it has heard of (its
process or its client cannot keep up) is closed 4429; the client reconnects with `after_seq`
and resumes. `ping` reads the latest stored seq, sends anything not yet sent, then `pong`
with that seq: after a pong, the client has every event up to it.
"""

import json
from typing import Any, Literal, TypedDict
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from realtime import stream
from realtime.send import user_group


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
    type: Literal["sockets.close"]
    code: int


class NotificationsConsumer(AsyncJsonWebsocketConsumer):
    user_id: str | None = None
    # The seq of the last event sent; None until the stream is live and after closing.
    last_sent: int | None = None

    async def connect(self) -> None:
        await self.accept()
        self.user_id = self.scope.get("ticket_user_id")
        if self.user_id is None:
            await self._close(stream.CLOSE_BAD_TICKET)
            return
        query = parse_qs(
            self.scope.get("query_string", b"").decode("latin1"), keep_blank_values=True
        )
        try:
            after_seq = stream.after_seq_parse(query.get("after_seq", []))
        except ValueError:
            await self._close(stream.CLOSE_BAD_AFTER_SEQ)
            return
        # Joined before reading the database; websocket_disconnect leaves it again.
        self.groups = [user_group(self.user_id)]
        await self.channel_layer.group_add(self.groups[0], self.channel_name)
        opening = await stream.read(stream.stream_open, user_id=self.user_id, after_seq=after_seq)
        if opening.close is not None:
            await self._close(opening.close)
            return
        hello: HelloMessage = {"type": "hello", "seq": opening.latest}
        await self.send_json(hello)
        for message in opening.replay:
            await self.send_json(message)
        self.last_sent = opening.latest

    async def dispatch(self, message: dict[str, Any]) -> None:
        """As Channels' dispatch, without closing stale database connections on every
        message: live messages touch no database, and database reads (`stream.read`) manage
        their connection themselves."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # Client -> server ------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        """`{"type": "ping"}` -> pong; anything else, malformed JSON included, is ignored."""
        if self.last_sent is None or text_data is None:
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            return
        if isinstance(content, dict) and content.get("type") == "ping":
            await self._pong()

    async def _pong(self) -> None:
        latest = await stream.read(stream.latest_seq, user_id=self.user_id)
        if latest > self.last_sent and not await self._fill(through_seq=latest, newest=latest):
            return
        pong: PongMessage = {"type": "pong", "seq": self.last_sent}
        await self.send_json(pong)

    # Channel layer -> server: one handler per message type --------------------------------

    async def transfer_updated(self, message: EventMessage) -> None:
        await self._deliver(message)

    async def balance_updated(self, message: EventMessage) -> None:
        await self._deliver(message)

    async def messages_batch(self, batch: BatchMessage) -> None:
        for message in batch["messages"]:
            await self.dispatch(message)

    async def sockets_close(self, message: SocketsCloseMessage) -> None:
        """The user was deactivated."""
        await self._close(message["code"])

    async def _deliver(self, message: EventMessage) -> None:
        if self.last_sent is None:
            return
        seq = message["seq"]
        if seq <= self.last_sent:
            return  # replayed or filled already
        if seq > self.last_sent + 1 and not await self._fill(through_seq=seq - 1, newest=seq):
            return
        await self.send_json(message)
        self.last_sent = seq

    async def _fill(self, *, through_seq: int, newest: int) -> bool:
        """Sends the stored events after the last one sent, through `through_seq`; False
        when the socket was closed instead: 4429 when the `newest` seq known is more than
        REALTIME_MAX_BEHIND ahead of the last one sent, 4410 when events were purged."""
        if newest - self.last_sent > settings.REALTIME_MAX_BEHIND:
            await self._close(stream.CLOSE_TOO_SLOW)
            return False
        messages = await stream.read(
            stream.events_between,
            user_id=self.user_id,
            after_seq=self.last_sent,
            through_seq=through_seq,
        )
        if messages is None:
            await self._close(stream.CLOSE_TOO_OLD)
            return False
        for message in messages:
            await self.send_json(message)
        self.last_sent = through_seq
        return True

    async def _close(self, code: int) -> None:
        self.last_sent = None
        await self.close(code=code)
