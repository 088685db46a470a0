"""Socket limits and faults on the real ASGI application, Redis pub/sub and PostgreSQL
(in process): sockets per user, client messages per socket, pings answered from the
process's seq cache, a dropped last event, Redis and PostgreSQL failing a handshake or read."""

import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import connection, connections

from api.core.tests.servers import free_port
from realtime.auth import ticket_issue
from realtime.send import messages_send
from realtime.tests.sockets import Socket, seqs
from realtime.tests.test_consumers import _settle_unpublished, pay, stored

pytestmark = pytest.mark.django_db(transaction=True)
db = database_sync_to_async


def run(scenario):
    return async_to_sync(scenario)()


def test_a_socket_beyond_max_sockets_per_user_is_closed_4429_before_hello(make_wallet, settings):
    settings.MAX_SOCKETS_PER_USER = 3
    wallet, other = make_wallet(balance=100), make_wallet()

    async def scenario():
        sockets = []
        for _ in range(3):
            socket, _, _ = await Socket.open(wallet=wallet)
            assert await socket.receive() == {"type": "hello", "seq": 2}
            sockets.append(socket)
        refused, accepted, _ = await Socket.open(wallet=wallet)
        assert accepted
        assert await refused.closed_with() == 4429  # first thing it gets: no hello
        # Another user is not affected, and a closed socket frees its place.
        theirs, _, _ = await Socket.open(wallet=other)
        assert await theirs.receive() == {"type": "hello", "seq": 0}
        await sockets.pop().close()
        again, _, _ = await Socket.open(wallet=wallet)
        assert await again.receive() == {"type": "hello", "seq": 2}
        for socket in [*sockets, again, theirs]:
            await socket.close()

    run(scenario)


def test_more_than_20_client_messages_in_10_seconds_close_4429(make_wallet):
    wallet = make_wallet(balance=100)

    async def scenario():
        socket, _, _ = await Socket.open(wallet=wallet)
        assert await socket.receive() == {"type": "hello", "seq": 2}
        for _ in range(10):
            assert await socket.ping() == ([], 2)
        for _ in range(10):
            await socket.send({"type": "anything"})  # ignored, but counted
        await socket.send({"type": "ping"})  # the 21st
        assert await socket.closed_with() == 4429

    run(scenario)


def test_a_ping_flood_runs_no_query_per_ping_and_does_not_stall_another_socket(make_wallet):
    flooder, sender, receiver = make_wallet(balance=100), make_wallet(balance=10_000), make_wallet()
    # The sockets' reads run on this thread, with its connection.
    reads = connections["default"]
    queries = []

    def counted(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    async def scenario():
        flood, _, _ = await Socket.open(wallet=flooder)
        watched, _, _ = await Socket.open(wallet=receiver)
        assert (await flood.receive())["seq"] == 2
        assert (await watched.receive())["seq"] == 0
        await pay(sender, receiver, 100)
        with reads.execute_wrapper(counted):
            started = time.monotonic()
            for _ in range(20):
                await flood.send({"type": "ping"})
            # The other socket's live events arrive meanwhile.
            assert seqs(await watched.receive_many(2)) == [1, 2]
            for _ in range(20):
                assert await flood.receive() == {"type": "pong", "seq": 2}
            elapsed = time.monotonic() - started
        # At most the seq refresher's one query a second, whatever the number of pings.
        assert len(queries) <= 1 + int(elapsed), queries
        await flood.close()
        await watched.close()

    run(scenario)


def test_a_stored_event_whose_publication_was_dropped_arrives_within_2_seconds(make_wallet):
    sender, receiver = make_wallet(balance=10_000), make_wallet()

    async def scenario():
        socket, _, _ = await Socket.open(wallet=sender)
        assert await socket.receive() == {"type": "hello", "seq": 2}
        await db(lambda: _settle_unpublished(sender=sender, receiver=receiver, amount=100))()
        committed = time.monotonic()
        arrived = await socket.receive_many(2)
        assert time.monotonic() - committed < 2
        assert arrived == (await db(stored)(sender))[2:]
        assert await socket.ping() == ([], 4)
        await socket.close()

    run(scenario)


def test_a_handshake_while_redis_is_unreachable_closes_1013(make_wallet, settings):
    wallet = make_wallet()
    ticket = ticket_issue(user_id=wallet.user_id)  # issued while Redis was up
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # the socket server's client

    async def scenario():
        socket, accepted, _ = await Socket.open(ticket=ticket)
        assert accepted
        assert await socket.closed_with() == 1013

    run(scenario)


def test_a_failed_database_read_closes_1013_and_the_next_socket_reconnects(make_wallet):
    wallet = make_wallet(balance=100)
    port = connection.settings_dict["PORT"]

    def postgres_unreachable():
        connection.close()  # the sockets' connection: they run their reads on this thread
        connection.settings_dict["PORT"] = str(free_port())

    async def scenario():
        socket, _, _ = await Socket.open(wallet=wallet)
        assert await socket.receive() == {"type": "hello", "seq": 2}
        await db(postgres_unreachable)()
        try:
            # A live message skipping seqs 3-4 makes the socket read them: the read fails.
            message = {"type": "balance.updated", "seq": 5, "balance": {}}
            await db(messages_send)(messages=[(wallet.user_id, message)])
            assert await socket.closed_with() == 1013
        finally:
            connection.settings_dict["PORT"] = port
        again, _, _ = await Socket.open(wallet=wallet)
        assert await again.receive() == {"type": "hello", "seq": 2}
        await again.close()

    run(scenario)
