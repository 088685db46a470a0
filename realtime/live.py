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
import itertools
import logging
from collections.abc import Iterable
from typing import Any, Protocol

import orjson
from django.conf import settings
from redis import asyncio as aioredis

from api.core.redis import redis_client as sync_redis_client
from realtime.redis import REDIS_ERRORS, connection_class, retry_broken_connection

# Pub/sub channels are not per database: every client of a Redis server hears the same ones.
# A channel is named by its user's id, a UUID, so stacks sharing a server (tests, benchmarks
# on their own database numbers) never hear each other's users.
CHANNEL_PREFIX = "vaultpay:live:user:"
# A socket whose inbox holds this many live messages is not keeping up (its client reads too
# slowly): further ones are dropped, and it reads what it missed from the database once it
# catches up, or is closed 4429 when too far behind (realtime.consumers).
INBOX_LIMIT = 1_000
# How long the subscriber reads before it sends the subscriptions asked for meanwhile (a
# handshake waits for its subscription up to this long more), and how long it waits before
# reconnecting after losing Redis. A Redis that stopped answering is noticed by the
# heartbeat (realtime.process).
POLL_SECONDS = 0.02
RECONNECT_SECONDS = 0.5
# Commands of the subscriber (SUBSCRIBE, UNSUBSCRIBE) give up after this long, and so does
# a handshake waiting for its subscription.
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
    """One event loop's subscriber connection and the sockets listening through it.

    One task owns the connection (redis-py's PubSub reconnects from whichever call fails, and
    two tasks doing so at once would read each other's replies): it sends the SUBSCRIBE and
    UNSUBSCRIBE asked for, in order and several users' in one command when a burst of
    handshakes asks at once, then reads for up to POLL_SECONDS: messages, which it hands to
    the sockets, and Redis's confirmations of subscriptions, which `listen` waits for.
    """

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = {}
        # Per user with listeners: done once Redis has confirmed the subscription.
        self._subscribed: dict[str, asyncio.Future] = {}
        # (command, user id) to send, in the order asked for.
        self._commands: list[tuple[str, str]] = []
        self._asked = asyncio.Event()
        self._pubsub: aioredis.client.PubSub | None = None
        self._task: asyncio.Task | None = None

    def _connection(self) -> aioredis.client.PubSub:
        if self._pubsub is None:
            client = aioredis.Redis.from_url(
                settings.REDIS_URL,
                socket_timeout=COMMAND_TIMEOUT_SECONDS,
                socket_connect_timeout=COMMAND_TIMEOUT_SECONDS,
                retry=retry_broken_connection(),
                connection_class=connection_class(settings.REDIS_URL),
            )
            self._pubsub = client.pubsub()
        return self._pubsub

    async def listen(self, user_id: str, socket: Listener) -> None:
        """From now on, the user's live messages reach `socket.inbox`: returns once Redis has
        confirmed the subscription. Raises one of REDIS_ERRORS when it could not be made;
        callers bound the wait (and `unlisten` when it fails)."""
        self._listeners.setdefault(user_id, set()).add(socket)
        subscribed = self._subscribed.get(user_id)
        if subscribed is None:
            subscribed = self._subscribed[user_id] = asyncio.get_running_loop().create_future()
            self._ask("SUBSCRIBE", user_id)
        await asyncio.shield(subscribed)

    def unlisten(self, user_id: str, socket: Listener) -> None:
        """Stops delivering to `socket`; the last socket of a user unsubscribes (when Redis
        cannot be told, the channel stays subscribed, its messages dropped here, until the
        connection is made again)."""
        sockets = self._listeners.get(user_id)
        if sockets is None or socket not in sockets:
            return
        sockets.discard(socket)
        if not sockets:
            del self._listeners[user_id]
            subscribed = self._subscribed.pop(user_id, None)
            if subscribed is not None:
                subscribed.cancel()
            self._ask("UNSUBSCRIBE", user_id)

    async def close(self) -> None:
        """Stops the task, waits for it to end, and closes the connection (callers bound the
        wait)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            await pubsub.aclose()

    def _ask(self, command: str, user_id: str) -> None:
        self._commands.append((command, user_id))
        self._asked.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="realtime-subscriber")

    async def _run(self) -> None:
        lost = False
        while True:
            try:
                await self._send_asked()
                if self._connection().connection is None:
                    # Never connected (the first SUBSCRIBE failed): nothing to read yet.
                    await self._asked.wait()
                    continue
                message = await self._connection().get_message(timeout=POLL_SECONDS)
            except REDIS_ERRORS as error:
                if not lost:
                    logger.warning("Live messages: Redis lost (%s)", type(error).__name__)
                lost = True
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            if lost:
                lost = False
                logger.warning("Live messages: Redis back, subscriptions renewed")
                self._forget_stale()
            if message is not None:
                self._received(message)

    async def _send_asked(self) -> None:
        """Raises one of REDIS_ERRORS when a command fails: the subscriptions of the batch
        then fail (their sockets close 1013, the next socket of the user asks again), and
        channels not unsubscribed stay so until the next reconnection."""
        self._asked.clear()
        commands, self._commands = self._commands, []
        try:
            for command, runs in itertools.groupby(commands, key=lambda pair: pair[0]):
                channels = [user_channel(user_id) for _, user_id in runs]
                if command == "SUBSCRIBE":
                    await self._connection().subscribe(*channels)
                else:
                    await self._connection().unsubscribe(*channels)
        except REDIS_ERRORS as error:
            for command, user_id in commands:
                subscribed = self._subscribed.get(user_id)
                if command == "SUBSCRIBE" and subscribed is not None and not subscribed.done():
                    subscribed.set_exception(error)
                    del self._subscribed[user_id]
            raise

    def _received(self, message: dict[str, Any]) -> None:
        user_id = message["channel"][len(CHANNEL_PREFIX) :].decode()
        if message["type"] == "subscribe":
            subscribed = self._subscribed.get(user_id)
            if subscribed is not None and not subscribed.done():
                subscribed.set_result(None)
        elif message["type"] == "message":
            sockets = self._listeners.get(user_id)
            if not sockets:
                return
            try:
                content = orjson.loads(message["data"])
            except ValueError:  # not JSON: no publisher of ours sent it
                logger.exception("Live message dropped")
                return
            for socket in sockets:
                if socket.inbox.qsize() < INBOX_LIMIT:
                    socket.inbox.put_nowait(content)

    def _forget_stale(self) -> None:
        """Unsubscribes the channels renewed on reconnecting whose sockets have left meanwhile
        (their UNSUBSCRIBE could not reach Redis)."""
        for channel in list(self._connection().channels):
            user_id = channel[len(CHANNEL_PREFIX) :].decode()
            if user_id not in self._listeners:
                self._ask("UNSUBSCRIBE", user_id)
