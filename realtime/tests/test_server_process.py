"""The socket server as the Procfile runs it (`ws`), in real processes: the per-user socket
limit across two servers and a server killed with SIGKILL; Redis stopped and started under
open sockets; a shutdown that ends within 10 s and leaves no process behind."""

import asyncio
import contextlib
import os
import signal
import threading
import time

import pytest
import redis
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from realtime.auth import _key
from realtime.send import user_group
from realtime.tests.processes import AsgiServer, RedisServer, Watcher, group_gone

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def servers(tmp_path):
    """start(redis_url=None) -> a running socket server; all are stopped at the end."""
    started: list[AsgiServer] = []

    def start(redis_url: str | None = None) -> AsgiServer:
        log = tmp_path / f"ws-{len(started)}.log"
        server = AsgiServer(log=log, redis_url=redis_url).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(directory=tmp_path / "redis").start()
    yield server
    server.stop()


def ticket_in(redis_url: str, wallet) -> str:
    """A ticket stored straight into the Redis at `redis_url` (as the ticket endpoint of a
    stack on that Redis would)."""
    ticket = os.urandom(16).hex()
    redis.Redis.from_url(redis_url).set(_key(ticket), str(wallet.user_id), ex=30)
    return ticket


def watch(server: AsgiServer, wallet, redis_url: str = settings.REDIS_URL) -> Watcher:
    return Watcher(f"{server.ws_url}?ticket={ticket_in(redis_url, wallet)}")


def test_the_socket_limit_counts_across_servers_and_a_killed_servers_sockets_are_freed(
    servers, make_wallet
):
    first, second = servers(), servers()
    wallet = make_wallet(balance=100)
    sockets = [watch(server, wallet) for server in (first, second) for _ in range(5)]
    for socket in sockets:
        assert socket.wait_for(1) == [{"type": "hello", "seq": 2}]
    for server in (first, second):
        refused = watch(server, wallet)
        assert refused.wait_closed() == 4429
        assert refused.messages == []  # closed before hello

    first.kill()  # SIGKILL: its five sockets are never unregistered
    killed = time.monotonic()
    while True:
        socket = watch(second, wallet)
        socket.wait_for(1)
        if socket.messages:
            break
        assert socket.close_code == 4429
        assert time.monotonic() - killed < 30, "the killed server's sockets still count"
        time.sleep(1)
    assert socket.messages == [{"type": "hello", "seq": 2}]
    more = [watch(second, wallet) for _ in range(4)]
    for extra in more:
        assert extra.wait_for(1) == [{"type": "hello", "seq": 2}]
    assert watch(second, wallet).wait_closed() == 4429
    for open_socket in [socket, *more, *sockets[5:]]:
        open_socket.close()


class Publisher:
    """Publishes a message to some users' groups every few milliseconds through a channel
    layer on the private Redis, on a thread of its own, ignoring failures (Redis is down
    part of the time). The message repeats seq 1, which every socket has: it is dropped."""

    def __init__(self, redis_url: str, user_ids: list) -> None:
        self.layer = RedisChannelLayer(hosts=[redis_url], prefix="vaultpay:ws:", expiry=10)
        self.groups = [user_group(user_id) for user_id in user_ids]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._publish(),), daemon=True)
        self.thread.start()

    async def _publish(self) -> None:
        while not self.stopping.is_set():
            for group in self.groups:
                with contextlib.suppress(Exception):  # Redis is stopped on purpose
                    await asyncio.wait_for(
                        self.layer.group_send(group, {"type": "balance.updated", "seq": 1}),
                        timeout=1,
                    )
            await asyncio.sleep(0.005)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


def test_redis_lost_under_open_sockets_closes_them_1012_and_sigterm_still_stops_within_10_s(
    servers, private_redis, make_wallet
):
    wallets = [make_wallet(balance=100) for _ in range(8)]
    server = servers(redis_url=private_redis.url)
    before = [watch(server, wallet, private_redis.url) for wallet in wallets for _ in range(5)]
    for socket in before:
        assert socket.wait_for(1)[0]["type"] == "hello"
    publisher = Publisher(private_redis.url, [wallet.user_id for wallet in wallets])
    try:
        time.sleep(1)
        private_redis.stop()
        for socket in before:
            assert socket.wait_closed() == 1012  # resume with after_seq
        time.sleep(1)
        private_redis.start()
        time.sleep(1)
        after = [watch(server, wallet, private_redis.url) for wallet in wallets[:3]]
        for socket in after:
            assert socket.wait_for(1)[0]["type"] == "hello"
        time.sleep(1)
    finally:
        publisher.stop()

    server.process.send_signal(signal.SIGTERM)
    asked = time.monotonic()
    server.process.wait(timeout=30)
    assert time.monotonic() - asked < 10, (server.log.read_text())[-3000:]
    for socket in after:
        assert socket.wait_closed() == 1012
    assert group_gone(server.process.pid)
    log = server.log.read_text()
    assert '"WebSocket /ws/notifications/" [accepted]' in log
    assert "ticket=" not in log  # tickets are never logged


def test_sigterm_while_redis_is_frozen_still_stops_within_10_s(servers, private_redis, make_wallet):
    """Leaving a group and the registry cannot complete: every wait is bounded."""
    wallets = [make_wallet(balance=100) for _ in range(4)]
    server = servers(redis_url=private_redis.url)
    sockets = [watch(server, wallet, private_redis.url) for wallet in wallets for _ in range(3)]
    for socket in sockets:
        assert socket.wait_for(1)[0]["type"] == "hello"
    private_redis.freeze()
    try:
        server.process.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        server.process.wait(timeout=60)
        assert time.monotonic() - asked < 10, (server.log.read_text())[-3000:]
    finally:
        private_redis.thaw()
    for socket in sockets:
        assert socket.wait_closed() == 1012
    assert group_gone(server.process.pid)


def test_a_handshake_while_redis_is_down_closes_1013_and_the_server_lives_on(
    servers, private_redis, make_wallet
):
    wallet = make_wallet(balance=100)
    server = servers(redis_url=private_redis.url)
    ticket = ticket_in(private_redis.url, wallet)
    private_redis.stop()
    refused = Watcher(f"{server.ws_url}?ticket={ticket}")
    assert refused.wait_closed() == 1013
    assert refused.messages == []
    private_redis.start()
    socket = watch(server, wallet, private_redis.url)
    assert socket.wait_for(1) == [{"type": "hello", "seq": 2}]
    socket.close()
