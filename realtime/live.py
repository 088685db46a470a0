"""Live messages from the processes that commit events to the sockets: Redis pub/sub, one
channel per user.

- Publishing (`publish`) sends a publication's messages in one round trip, one PUBLISH per
  user, whatever the number of users: Redis hands each to the socket-server processes
  subscribed to that user's channel, and drops it when none is (which costs next to nothing,
  so publishers need not know who listens).
- Receiving: each socket-server process holds one subscriber connection (`Subscriber`),
  subscribed to the channels of the users it has sockets for. A message is decoded once and
  put into the inbox of each of that user's sockets in the process.

Delivery is at most once: what is published while no subscription is in place (Redis
restarting, a socket still connecting) is lost, and sockets fill the gap from the database
by seq. After a lost connection the subscriber reconnects and subscribes again by itself
(redis-py's PubSub resubscribes whatever it had); meanwhile the process's seq refresher
(realtime.process) sends sockets what they missed, from the database.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any, Protocol

import orjson
from django.conf import settings
from redis import asyncio as aioredis

from api.core.redis import redis_client as sync_redis_client
from realtime.redis import REDIS_ERRORS, connection_class, retry_broken_connection

CHANNEL_PREFIX = "vaultpay:live:user:"
# A socket whose inbox holds this many live messages is not keeping up (its client reads too
# slowly): further ones are dropped, and it reads what it missed from the database once it
# catches up, or is closed 4429 when too far behind (realtime.consumers).
INBOX_LIMIT = 1_000
# How long the subscriber's read waits for a message before it looks again (a Redis that
# stopped answering is noticed by the heartbeat, realtime.process), and how long it waits
# before reconnecting after losing Redis.
READ_SECONDS = 1.0
RECONNECT_SECONDS = 0.5
# Writes of the subscriber (SUBSCRIBE, UNSUBSCRIBE) give up after this long.
COMMAND_TIMEOUT_SECONDS = 1.0

# One PUBLISH per (channel, payload) pair of ARGV, in one round trip. A script rather than a
# pipeline so that the call goes through the request client's fail-fast rule (api.core.redis):
# during an outage a publisher pays Redis's timeout about once a second, not per publication.
_PUBLISH = """
for i = 1, #ARGV, 2 do
    redis.call('PUBLISH', ARGV[i], ARGV[i + 1])
end
"""

logger = logging.getLogger(__name__)


class Listener(Protocol):
    """What the subscriber needs of a socket."""

    inbox: asyncio.Queue


def user_channel(user_id: object) -> str:
    """The pub/sub channel of a user's sockets. Only the server names channels: a client can
    neither choose nor join one."""
    return f"{CHANNEL_PREFIX}{user_id}"


def publish(publications: Iterable[tuple[object, dict[str, Any]]]) -> None:
    """Publishes each (user id, message) to that user's channel, in one round trip.
    Synchronous (callers run after a commit). Raises redis.RedisError when Redis fails or
    did fail less than a second ago."""
    arguments: list[Any] = []
    for user_id, message in publications:
        arguments += [user_channel(user_id), orjson.dumps(message)]
    if arguments:
        sync_redis_client().eval(_PUBLISH, 0, *arguments)


class Subscriber:
    """One event loop's subscriber connection and the sockets listening through it."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = {}
        # SUBSCRIBE and UNSUBSCRIBE of one user in the order they were asked for.
        self._lock = asyncio.Lock()
        self._pubsub: aioredis.client.PubSub | None = None
        self._reader: asyncio.Task | None = None

    def _connection(self) -> aioredis.client.PubSub:
        if self._pubsub is None:
            client = aioredis.Redis.from_url(
                settings.REDIS_URL,
                socket_timeout=COMMAND_TIMEOUT_SECONDS,
                socket_connect_timeout=COMMAND_TIMEOUT_SECONDS,
                retry=retry_broken_connection(),
                connection_class=connection_class(settings.REDIS_URL),
            )
            self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        return self._pubsub

    async def listen(self, user_id: str, socket: Listener) -> None:
        """From now on, the user's live messages reach `socket.inbox`. Raises one of
        REDIS_ERRORS when the subscription could not be made (the socket is not added)."""
        async with self._lock:
            if user_id not in self._listeners:
                await self._connection().subscribe(user_channel(user_id))
                self._listeners[user_id] = set()
            self._listeners[user_id].add(socket)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(), name="realtime-subscriber")

    async def unlisten(self, user_id: str, socket: Listener) -> None:
        """Stops delivering to `socket`; the last socket of a user unsubscribes. Raises one of
        REDIS_ERRORS when Redis could not be told: the channel then stays subscribed, and its
        messages are dropped here, until the connection is made again."""
        async with self._lock:
            sockets = self._listeners.get(user_id)
            if sockets is None or socket not in sockets:
                return
            sockets.discard(socket)
            if not sockets:
                del self._listeners[user_id]
                await self._connection().unsubscribe(user_channel(user_id))

    async def close(self) -> None:
        """Stops the reader, waits for it to end, and closes the connection (callers bound
        the wait)."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            await asyncio.wait([reader])
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            await pubsub.aclose()

    async def _read(self) -> None:
        lost = False
        while True:
            try:
                message = await self._connection().get_message(timeout=READ_SECONDS)
            except REDIS_ERRORS as error:
                if not lost:
                    logger.warning("Live messages: Redis lost (%s)", type(error).__name__)
                lost = True
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            if lost:
                lost = False
                logger.warning("Live messages: Redis back, subscriptions renewed")
                await self._forget_stale()
            if message is not None and message["type"] == "message":
                try:
                    self._deliver(message["channel"], message["data"])
                except ValueError:  # not JSON: no publisher of ours sent it
                    logger.exception("Live message dropped")

    def _deliver(self, channel: bytes, data: bytes) -> None:
        sockets = self._listeners.get(channel[len(CHANNEL_PREFIX) :].decode())
        if not sockets:
            return
        message = orjson.loads(data)
        for socket in sockets:
            if socket.inbox.qsize() < INBOX_LIMIT:
                socket.inbox.put_nowait(message)

    async def _forget_stale(self) -> None:
        """Unsubscribes the channels renewed on reconnecting whose sockets have left meanwhile
        (their UNSUBSCRIBE could not reach Redis)."""
        async with self._lock:
            wanted = {user_channel(user_id).encode() for user_id in self._listeners}
            stale = [channel for channel in self._connection().channels if channel not in wanted]
            if stale:
                # On failure, tried again after the next reconnection.
                with contextlib.suppress(*REDIS_ERRORS):
                    await self._connection().unsubscribe(*stale)
