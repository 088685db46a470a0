"""The socket server's own Redis client: asyncio, one per event loop, with short timeouts.

Handshakes consume tickets and count sockets through it, so a stopped or frozen Redis costs a
handshake at most about REDIS_TIMEOUT_SECONDS before it is closed 1013 (try again later). The
channel layer keeps connections of its own, whose reads block for seconds on purpose (settings
`channel_layers`); its calls on the handshake are bounded with `asyncio.timeout` instead.
"""

import asyncio
import weakref

from django.conf import settings
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

REDIS_TIMEOUT_SECONDS = 0.25
# What an unreachable, frozen or failing Redis raises (`asyncio.timeout` raises TimeoutError).
REDIS_ERRORS = (RedisError, TimeoutError)

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]" = (
    weakref.WeakKeyDictionary()
)


def redis_client() -> aioredis.Redis:
    """The client of the running event loop. A connection that broke (Redis restarted) is
    replaced once, at once; a timeout is not retried."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = aioredis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        )
    return client
