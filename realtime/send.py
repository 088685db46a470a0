"""Publishes already-built realtime messages to the sockets of given users.

A leaf: it knows channel groups and nothing of transfers, balances or events. Callers build
the messages (each a dict with a `type` naming the consumer handler and, for events, a `seq`)
and call these functions only after their transaction has committed (from
`transaction.on_commit`), so a rolled-back transaction sends nothing.

Publishing is at most once: the channel layer may drop messages (capacity, expiry, a Redis
restart). Sockets never depend on it for completeness: they fill gaps in `seq` from the
database. Each process publishes through one long-lived event loop on a daemon thread,
created lazily (and again after a fork, for Celery's prefork children and gunicorn's workers),
so the Redis connections stay open between publications.
"""

import asyncio
import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Coroutine, Iterable
from typing import Any

from channels.layers import get_channel_layer

# Close code of a socket whose user was deactivated (docs/socket-protocol.md).
CLOSE_USER_DEACTIVATED = 4401
# How long a publication may take before the caller stops waiting for it.
PUBLISH_TIMEOUT_SECONDS = 5.0
PUBLISH_CONCURRENCY = 16
# Type of the envelope that carries several messages for one user (see `messages_send`).
BATCH = "messages.batch"
# The Unix time of publication, added to what travels on the channel layer for the socket
# server's delivery-latency metric; the socket removes it before sending.
PUBLISHED_AT = "published_at"

logger = logging.getLogger(__name__)


def user_group(user_id: object) -> str:
    """The channel group of a user's sockets. Only the server names groups: a client can
    neither choose nor join one."""
    return f"user.{user_id}"


def messages_send(*, messages: Iterable[tuple[object, dict[str, Any]]]) -> None:
    """Sends each (user id, message) to that user's sockets; one user's messages go out in
    the order given (in one envelope, `messages.batch`, when there are several), different
    users' concurrently. Returns once Redis holds them.

    Never raises: a failure (Redis down, a timeout) is logged and the messages are lost,
    which sockets repair from the database on their next message or ping. So it is safe in
    `transaction.on_commit` callbacks, where an exception would reach the committing caller.
    """
    by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for user_id, message in messages:
        by_group[user_group(user_id)].append(message)
    if not by_group:
        return
    try:
        _publisher.run(_groups_send(by_group))
    except Exception:
        logger.exception("Realtime messages for %d users were not published", len(by_group))


def user_sockets_close(*, user_ids: Iterable[object]) -> None:
    """Closes every open socket of these users with 4401 (their tickets no longer count).
    Never raises, like `messages_send`; a socket it misses is refused on its next connect."""
    message = {"type": "sockets.close", "code": CLOSE_USER_DEACTIVATED}
    messages_send(messages=[(user_id, message) for user_id in user_ids])


async def _groups_send(by_group: dict[str, list[dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    listened = await _groups_listened(layer, list(by_group))
    # Each group send holds a pooled Redis connection for its few round trips; bounded so a
    # batch touching thousands of users stays within the pool.
    gate = asyncio.Semaphore(PUBLISH_CONCURRENCY)

    async def in_order(group: str, messages: list[dict[str, Any]]) -> None:
        # A user's messages of one publication travel as one channel-layer message: each
        # channel-layer message costs the receiving process a few Redis round trips.
        message = messages[0] if len(messages) == 1 else {"type": BATCH, "messages": messages}
        message = {**message, PUBLISHED_AT: time.time()}
        async with gate:
            await layer.group_send(group, message)

    await asyncio.gather(*(in_order(group, by_group[group]) for group in listened))


async def _groups_listened(layer, groups: list[str]) -> list[str]:
    """The groups with at least one socket, read in one pipelined round trip per Redis shard
    (channels-redis keeps a group's members in a sorted set; a group send to an empty group
    still costs two round trips, and most users of a settlement batch have no socket open).

    Skipping a group loses nothing: a socket joins its group before it replays stored events
    from the database, so an event committed before this read reaches it by replay. A group
    whose last socket has just left is sent to anyway, harmlessly.
    """
    by_shard: dict[int, list[str]] = defaultdict(list)
    for group in groups:
        by_shard[layer.consistent_hash(group)].append(group)
    listened = []
    for shard, shard_groups in by_shard.items():
        pipeline = layer.connection(shard).pipeline(transaction=False)
        for group in shard_groups:
            pipeline.zcard(layer._group_key(group))
        counts = await pipeline.execute()
        listened += [group for group, count in zip(shard_groups, counts, strict=True) if count]
    return listened


class _Publisher:
    """One event loop on a daemon thread per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._pid != os.getpid() or self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="realtime-send", daemon=True).start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        future = asyncio.run_coroutine_threadsafe(work, self._running_loop())
        future.result(timeout=PUBLISH_TIMEOUT_SECONDS)


_publisher = _Publisher()
