"""The socket server as the Procfile runs it (`ws`), in real processes: the per-user socket
limit across two servers and a server killed with SIGKILL; Redis stopped and started under
open sockets; a shutdown that ends within 10 s and leaves no process behind."""

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import orjson
import pytest
import redis
from django.conf import settings

from api.core.tests.servers import RedisServer
from realtime.auth import _key
from realtime.live import user_channel
from realtime.tests.processes import AsgiServer, Watcher, group_gone

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def servers(tmp_path):
    """start(redis_url=None, processes=1) -> a running socket server; all are stopped at the
    end."""
    started: list[AsgiServer] = []

    def start(redis_url: str | None = None, processes: int = 1) -> AsgiServer:
        log = tmp_path / f"ws-{len(started)}.log"
        server = AsgiServer(log=log, redis_url=redis_url, processes=processes).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(folder=tmp_path / "redis").start()
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
    """Publishes a message to some users' channels every few milliseconds on the private
    Redis, on a thread of its own, ignoring failures (Redis is down part of the time). The
    message repeats seq 1, which every socket has: it is dropped."""

    def __init__(self, redis_url: str, user_ids: list) -> None:
        self.client = redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
        self.channels = [user_channel(user_id) for user_id in user_ids]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._publish, daemon=True)
        self.thread.start()

    def _publish(self) -> None:
        message = orjson.dumps({"type": "balance.updated", "seq": 1})
        while not self.stopping.is_set():
            for channel in self.channels:
                with contextlib.suppress(redis.RedisError):  # Redis is stopped on purpose
                    self.client.publish(channel, message)
            time.sleep(0.005)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


def test_a_short_redis_restart_keeps_sockets_open_and_live_messages_resume(
    servers, private_redis, make_wallet
):
    """A restart shorter than the heartbeat's grace (realtime.process) closes nothing: the
    server's subscriber subscribes again by itself, and the next live message arrives live
    (seq 3 is not stored: only a live message can bring it)."""
    wallets = [make_wallet(balance=100) for _ in range(3)]
    server = servers(redis_url=private_redis.url)
    sockets = [watch(server, wallet, private_redis.url) for wallet in wallets]
    for socket in sockets:
        assert socket.wait_for(1) == [{"type": "hello", "seq": 2}]
    private_redis.stop()
    time.sleep(1)
    private_redis.start()
    client = redis.Redis.from_url(private_redis.url)
    message = orjson.dumps({"type": "balance.updated", "seq": 3, "balance": {}})
    deadline = time.monotonic() + 4
    while any(len(socket.messages) < 2 for socket in sockets):
        assert time.monotonic() < deadline, [socket.messages for socket in sockets]
        for wallet in wallets:
            client.publish(user_channel(wallet.user_id), message)
        time.sleep(0.2)
    for socket in sockets:
        assert socket.messages[1] == {"type": "balance.updated", "seq": 3, "balance": {}}
        assert not socket.closed
        socket.close()


def test_redis_lost_under_open_sockets_closes_them_1012_and_sigterm_still_stops_within_10_s(
    servers, private_redis, make_wallet
):
    wallets = [make_wallet(balance=100) for _ in range(8)]
    server = servers(redis_url=private_redis.url, processes=2)
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


def test_several_processes_share_the_port_and_one_ending_stops_the_server(servers, make_wallet):
    """`--processes 2`: both serve on the one port; when one ends by itself the supervisor
    stops the other and exits non-zero, so that the process manager restarts the whole
    server."""
    wallet = make_wallet(balance=100)
    server = servers(processes=2)
    children = [int(pid) for pid in Path(f"/proc/{server.process.pid}/task").glob("*/children")
                for pid in pid.read_text().split()]  # fmt: skip
    assert len(children) == 2
    sockets = [watch(server, wallet) for _ in range(8)]
    for socket in sockets:
        assert socket.wait_for(1) == [{"type": "hello", "seq": 2}]
    log = server.log.read_text()
    assert all(f"Started server process [{pid}]" in log for pid in children)
    os.kill(children[0], signal.SIGKILL)
    assert server.process.wait(timeout=15) == 1
    assert group_gone(server.process.pid)
    # Sockets of the killed process drop (1006); the other's are closed 1012.
    assert {socket.wait_closed() for socket in sockets} <= {1012, 1006}
