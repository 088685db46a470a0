"""What one socket-server process keeps for all its sockets: its id in the socket registry,
its subscriber to live messages (realtime.live), the latest seq of each connected user, and
two background loops.

- The heartbeat (every HEARTBEAT_SECONDS) keeps the process's sockets counted in Redis and
  removes the registry entries of sockets that closed while Redis could not be reached. When
  Redis has not answered for half the heartbeat's lifetime, the other processes are about to
  stop counting these sockets, and their live messages are not arriving either: every socket
  is closed 1012 so that its client resumes, by seq, once Redis is back.
- The seq refresher reads, at most once a second and in one query for all the process's
  users, each user's latest stored seq. Pings answer from it (never a query per ping), and a
  socket still behind it a moment later (a live message was lost, which pub/sub allows, e.g.
  while Redis restarted) is told to send the missing events from the database.

State lives per event loop (a server process has one; tests run several in turn), and the
loops run only while the process has sockets open.
"""

import asyncio
import logging
import time
import uuid
import weakref
from typing import Protocol

from django.conf import settings
from django.db import Error as DatabaseError

from api.core.metrics.catalogue import SOCKETS_OPEN
from realtime import registry, stream
from realtime.close_codes import SERVICE_RESTART
from realtime.live import COMMAND_TIMEOUT_SECONDS, Subscriber
from realtime.redis import REDIS_ERRORS, REDIS_TIMEOUT_SECONDS, redis_client

# The refresher reads the latest seqs once a second, then waits this long before nudging
# sockets still behind, so that events committed a moment ago arrive live rather than as a
# database read.
REFRESH_SECONDS = 1.0
NUDGE_GRACE_SECONDS = 0.25
# How long a socket's leaving may wait for Redis and for its own cleanup.
CLEANUP_TIMEOUT_SECONDS = 1.0

logger = logging.getLogger(__name__)


class Socket(Protocol):
    """What the process needs of a consumer."""

    socket_id: str
    user_id: str | None
    last_sent: int | None
    inbox: asyncio.Queue


class SocketServer:
    def __init__(self) -> None:
        self.server_id = uuid.uuid4().hex
        self._subscriber = Subscriber()
        self._sockets: set[Socket] = set()
        self._latest: dict[str, int] = {}
        self._nudged: set[Socket] = set()
        # Registry entries whose removal failed; the next heartbeat retries them.
        self._closed: list[tuple[str, str]] = []
        self._tasks: list[asyncio.Task] = []
        self._redis_ok_at = time.monotonic()
        # Set once the sockets were told to close for a Redis outage; cleared when Redis
        # answers again, so that an outage closes them once, not once per failing socket.
        self._redis_lost = False

    # Sockets ----------------------------------------------------------------------------------

    async def socket_open(self, socket: Socket, *, user_id: str) -> bool:
        """Registers the socket across processes; False when its user already has
        MAX_SOCKETS_PER_USER open. Raises one of REDIS_ERRORS when Redis cannot tell."""
        async with asyncio.timeout(REDIS_TIMEOUT_SECONDS * 2):
            added = await registry.socket_register(
                redis=redis_client(),
                user_id=user_id,
                socket_id=socket.socket_id,
                server_id=self.server_id,
                limit=settings.MAX_SOCKETS_PER_USER,
            )
        self._redis_answered()
        if added:
            self._sockets.add(socket)
            SOCKETS_OPEN.inc()
            self._run()
        return added

    async def socket_listen(self, socket: Socket) -> None:
        """From now on, the live messages of the socket's user reach its inbox. Raises one of
        REDIS_ERRORS when the subscription could not be made within its timeout."""
        async with asyncio.timeout(COMMAND_TIMEOUT_SECONDS):
            await self._subscriber.listen(socket.user_id, socket)

    async def socket_close(self, socket: Socket) -> None:
        """Stops the socket's live messages and unregisters it; waits at most
        CLEANUP_TIMEOUT_SECONDS and raises nothing but cancellation. An entry Redis did not
        remove is retried by the next heartbeat."""
        if socket not in self._sockets:
            return
        self._sockets.discard(socket)
        SOCKETS_OPEN.dec()
        self._nudged.discard(socket)
        if not self._sockets:
            self._stop()
        self._subscriber.unlisten(socket.user_id, socket)
        entry = (socket.user_id, socket.socket_id)
        try:
            async with asyncio.timeout(CLEANUP_TIMEOUT_SECONDS):
                await registry.sockets_unregister(redis=redis_client(), sockets=[entry])
        except REDIS_ERRORS:
            self._closed.append(entry)
        except asyncio.CancelledError:
            self._closed.append(entry)
            raise

    def close_all(self, code: int) -> None:
        """Asks every open socket of the process to close with `code`."""
        for socket in self._sockets:
            socket.inbox.put_nowait({"type": "server.close", "code": code})

    async def shutdown(self) -> None:
        """Unregisters every socket still open, stops the loops and the subscriber, within
        CLEANUP_TIMEOUT_SECONDS each; the sockets themselves are closed by the ASGI server."""
        self._stop()
        entries = [(s.user_id, s.socket_id) for s in self._sockets] + self._closed
        try:
            async with asyncio.timeout(CLEANUP_TIMEOUT_SECONDS):
                await registry.sockets_unregister(redis=redis_client(), sockets=entries)
                await registry.server_forget(redis=redis_client(), server_id=self.server_id)
        except REDIS_ERRORS:
            pass  # the heartbeat expires on its own
        try:
            async with asyncio.timeout(CLEANUP_TIMEOUT_SECONDS):
                await self._subscriber.close()
        except REDIS_ERRORS:
            pass  # the connection dies with the process

    # Latest seqs ------------------------------------------------------------------------------

    def seq_seen(self, user_id: str, seq: int) -> None:
        """Records a seq this process knows to be stored (sent, or read on opening)."""
        if seq > self._latest.get(user_id, 0):
            self._latest[user_id] = seq

    def seq_latest(self, user_id: str) -> int:
        """The user's latest stored seq as this process knows it (at most about a second old,
        unless a socket delivered a newer one since)."""
        return self._latest.get(user_id, 0)

    def nudge_done(self, socket: Socket) -> None:
        self._nudged.discard(socket)

    # Loops ------------------------------------------------------------------------------------

    def _run(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._heartbeats(), name="realtime-heartbeat"),
                asyncio.create_task(self._refreshes(), name="realtime-seq-refresh"),
            ]

    def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(registry.HEARTBEAT_SECONDS)
            closed, self._closed = self._closed, []
            try:
                async with asyncio.timeout(REDIS_TIMEOUT_SECONDS * 2):
                    await registry.server_heartbeat(
                        redis=redis_client(), server_id=self.server_id, closed=closed
                    )
            except REDIS_ERRORS as error:
                self._closed += closed
                if time.monotonic() - self._redis_ok_at >= registry.SERVER_TTL_SECONDS / 2:
                    self.redis_lost(error)
            else:
                self._redis_answered()

    def _redis_answered(self) -> None:
        self._redis_ok_at = time.monotonic()
        self._redis_lost = False

    def redis_lost(self, error: BaseException) -> None:
        """Closes every socket 1012: Redis has not answered the heartbeat for too long, so
        live messages no longer arrive and the sockets are about to stop counting."""
        if self._redis_lost:
            return
        self._redis_lost = True
        logger.warning(
            "Redis unreachable (%s): closing %d sockets 1012",
            type(error).__name__,
            len(self._sockets),
        )
        self.close_all(SERVICE_RESTART)

    async def _refreshes(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS - NUDGE_GRACE_SECONDS)
            users = {s.user_id for s in self._sockets if s.last_sent is not None}
            if not users:
                continue
            try:
                latest = await stream.read(stream.latest_seqs, user_ids=users)
            except DatabaseError as error:
                logger.warning("Latest seqs not refreshed: %s", type(error).__name__)
                continue
            self._latest = {user: self._latest.get(user, 0) for user in users}
            for user, seq in latest.items():
                self.seq_seen(user, seq)
            await asyncio.sleep(NUDGE_GRACE_SECONDS)
            for socket in list(self._sockets):
                if (
                    socket not in self._nudged
                    and socket.last_sent is not None
                    and self.seq_latest(socket.user_id) > socket.last_sent
                ):
                    self._nudged.add(socket)
                    socket.inbox.put_nowait({"type": "seq.latest"})


_servers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SocketServer]" = (
    weakref.WeakKeyDictionary()
)


def socket_server() -> SocketServer:
    """The SocketServer of the running event loop."""
    loop = asyncio.get_running_loop()
    server = _servers.get(loop)
    if server is None:
        server = _servers[loop] = SocketServer()
    return server


async def socket_server_shutdown() -> None:
    """Shuts down the running event loop's SocketServer, if it has one (bounded)."""
    server = _servers.get(asyncio.get_running_loop())
    if server is not None:
        await server.shutdown()
