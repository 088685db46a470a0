"""The socket server's own Redis client: asyncio, one per event loop, with short timeouts.

Handshakes consume tickets and count sockets through it, so a stopped or frozen Redis costs a
handshake at most about REDIS_TIMEOUT_SECONDS before it is closed 1013 (try again later). The
live-message subscriber keeps a connection of its own (realtime.live), whose calls on the
handshake are bounded with `asyncio.timeout`. Both connect with `connection_class`, whose
writes never lose a task's cancellation, and retry a command only when its connection broke
(`retry_broken_connection`).
"""

import asyncio
import weakref
from urllib.parse import urlsplit

from django.conf import settings
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

REDIS_TIMEOUT_SECONDS = 0.25
# What an unreachable, frozen or failing Redis raises (`asyncio.timeout` raises TimeoutError).
REDIS_ERRORS = (RedisError, TimeoutError)


class WritesKeepCancellation:
    """Raises a cancellation that a redis-py write swallowed.

    redis-py bounds every write with `asyncio.wait_for`, which on Python 3.11 returns normally
    when its task is cancelled just as the write completes (CPython gh-86296; 3.12 rebuilt
    `wait_for` on `asyncio.timeout`). A channel-layer receive cancelled there went on polling
    Redis for ever, so its consumer never ended, nor did the shutdown of its event loop (a
    server stopping, or a test's loop closing). The cancellation is raised again once the
    write returns, and the connection dropped, as redis-py drops one whose write was
    interrupted: its reply will never be read.
    """

    async def send_packed_command(self, command, check_health: bool = True) -> None:
        task = asyncio.current_task()
        cancels = task.cancelling() if task is not None else 0
        await super().send_packed_command(command, check_health)
        if task is not None and task.cancelling() > cancels:
            await self.disconnect(nowait=True)
            raise asyncio.CancelledError


class _TCPConnection(WritesKeepCancellation, aioredis.Connection):
    pass


class _TLSConnection(WritesKeepCancellation, aioredis.SSLConnection):
    pass


class _UnixSocketConnection(WritesKeepCancellation, aioredis.UnixDomainSocketConnection):
    pass


def connection_class(url: str) -> type[aioredis.connection.AbstractConnection]:
    """The asyncio connection class for a Redis URL (redis://, rediss:// or unix://), as
    redis-py would choose it, with writes that keep their task's cancellation."""
    scheme = urlsplit(url).scheme
    return {"rediss": _TLSConnection, "unix": _UnixSocketConnection}.get(scheme, _TCPConnection)


_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]" = (
    weakref.WeakKeyDictionary()
)


def retry_broken_connection() -> Retry:
    """A command whose connection broke (Redis restarted since it was opened) is sent again
    once, at once, on a new connection; a timeout is not retried."""
    return Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


def redis_client() -> aioredis.Redis:
    """The client of the running event loop (`retry_broken_connection`)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = aioredis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            retry=retry_broken_connection(),
            connection_class=connection_class(settings.REDIS_URL),
        )
    return client
