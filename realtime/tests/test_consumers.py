"""The notifications socket against the real ASGI application (origin check, ticket
middleware, routing, consumer), real Redis pub/sub and PostgreSQL; events come from
the real settlement services, published after their commit."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import transaction
from django.utils import timezone

from api.accounts.models import Account
from api.core.redis import redis_client
from api.transfers.models import Event
from api.transfers.payloads import event_message
from api.transfers.tests.helpers import pending_create, settle
from api.users.services import user_deactivate
from realtime import live
from realtime.auth import _key, ticket_issue
from realtime.live import user_channel
from realtime.send import messages_send
from realtime.tests.sockets import Socket, kinds, seqs

pytestmark = pytest.mark.django_db(transaction=True)


def run(scenario):
    """Runs an async scenario to completion from this (sync) test. The consumer's database
    calls run on this thread, with the test database connection."""
    return async_to_sync(scenario)()


db = database_sync_to_async


@db
def pay(sender: Account, receiver: Account, amount: int):
    """A payment accepted and settled, each in its own commit; returns it settled."""
    return settle(pending_create(sender=sender, receiver=receiver, amount=amount).pk)


def stored(wallet: Account) -> list[dict]:
    rows = (
        Event.objects.filter(user_id=wallet.user_id)
        .order_by("seq")
        .values_list("type", "seq", "payload")
    )
    return [event_message(event_type=t, seq=s, payload=p) for t, s, p in rows]


# ---- tickets -------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "ticket=", "ticket=not-a-ticket", "ticket=a&ticket=b"])
def test_without_a_valid_ticket_the_socket_is_accepted_then_closed_4401(query, make_wallet):
    async def scenario():
        socket, accepted, _ = await Socket.open(query=query)
        assert accepted
        assert await socket.closed_with() == 4401

    run(scenario)


def test_a_ticket_is_good_for_one_connection(make_wallet):
    wallet = make_wallet()
    ticket = ticket_issue(user_id=wallet.user_id)

    async def scenario():
        first, _, _ = await Socket.open(ticket=ticket)
        assert await first.receive() == {"type": "hello", "seq": 0}
        again, accepted, _ = await Socket.open(ticket=ticket)
        assert accepted
        assert await again.closed_with() == 4401
        await first.close()

    run(scenario)


def test_an_expired_ticket_closes_4401(make_wallet):
    wallet = make_wallet()
    ticket = ticket_issue(user_id=wallet.user_id)
    assert 29 <= redis_client().ttl(_key(ticket)) <= 30
    redis_client().expire(_key(ticket), 0)  # what 30 s of waiting would do

    async def scenario():
        socket, accepted, _ = await Socket.open(ticket=ticket)
        assert accepted
        assert await socket.closed_with() == 4401

    run(scenario)


def test_a_ticket_of_a_deactivated_user_closes_4401(make_wallet):
    wallet = make_wallet(balance=500)
    ticket = ticket_issue(user_id=wallet.user_id)
    wallet.user.is_active = False
    wallet.user.save(update_fields=["is_active"])

    async def scenario():
        socket, _, _ = await Socket.open(ticket=ticket)
        assert await socket.closed_with() == 4401

    run(scenario)


# ---- origin --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://127.0.0.1:9",
        "https://127.0.0.1.evil.example:8000",
        "null",
        "file://",
        "http://127.0.0.1:{port}/path",
    ],
)
def test_a_foreign_origin_is_refused_at_the_handshake(origin, make_wallet, settings):
    wallet = make_wallet()

    async def scenario():
        _, accepted, _ = await Socket.open(
            wallet=wallet, origin=origin.format(port=settings.HTTP_PORT)
        )
        assert not accepted

    run(scenario)


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "http://127.0.0.1:{port}",
        "http://localhost:{port}",
        "https://localhost",
        "http://[::1]:{port}",
        "https://app.vaultpay.example",
    ],
)
def test_the_sites_own_origins_and_cors_origins_are_allowed(origin, make_wallet, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.vaultpay.example"]
    wallet = make_wallet()

    async def scenario():
        socket, accepted, _ = await Socket.open(
            wallet=wallet, origin=origin and origin.format(port=settings.HTTP_PORT)
        )
        assert accepted
        assert await socket.receive() == {"type": "hello", "seq": 0}
        await socket.close()

    run(scenario)


# ---- hello, ping, live, replay -------------------------------------------------------------


def test_hello_ping_and_live_events_in_seq_order(make_wallet):
    sender, receiver = make_wallet(balance=10_000), make_wallet()

    async def scenario():
        mine, _, _ = await Socket.open(wallet=sender)
        theirs, _, _ = await Socket.open(wallet=receiver)
        # The deposit stored transfer.updated (1) and balance.updated (2) for the sender.
        assert await mine.receive() == {"type": "hello", "seq": 2}
        assert await theirs.receive() == {"type": "hello", "seq": 0}
        assert await mine.ping() == ([], 2)

        transfer = await pay(sender, receiver, 2_550)

        sent, got = await mine.receive_many(2), await theirs.receive_many(2)
        assert (seqs(sent), seqs(got)) == ([3, 4], [1, 2])
        for messages in (sent, got):
            assert kinds(messages) == ["transfer.updated", "balance.updated"]
            assert messages[0]["transfer"]["id"] == str(transfer.uuid)
            assert messages[0]["transfer"]["status"] == "SUCCESS"
            assert messages[0]["transfer"]["amount"] == "25.50"
        assert sent[1]["balance"]["balance"] == "74.50"
        assert got[1]["balance"]["balance"] == "25.50"
        assert await mine.ping() == ([], 4)
        assert await theirs.ping() == ([], 2)
        # Stored and pushed are the same messages.
        assert sent == (await db(stored)(sender))[2:]
        await mine.close()
        await theirs.close()

    run(scenario)


def test_anything_but_ping_is_ignored(make_wallet):
    wallet = make_wallet(balance=100)

    async def scenario():
        socket, _, _ = await Socket.open(wallet=wallet)
        assert (await socket.receive())["type"] == "hello"
        await socket.communicator.send_to(text_data="{not json")
        await socket.communicator.send_to(bytes_data=b"\x00\x01")
        for content in [[], "ping", {"type": "sockets.close", "code": 4401}, {"type": "hello"}]:
            await socket.send(content)
        await socket.send({"type": "transfer.updated", "seq": 3, "transfer": {}})
        assert await socket.ping() == ([], 2)

    run(scenario)


def test_after_seq_replays_every_stored_event_after_it_in_order_then_live(make_wallet):
    sender, receiver = make_wallet(balance=10_000), make_wallet()
    for amount in (100, 200, 300):
        settle(pending_create(sender=sender, receiver=receiver, amount=amount).pk)
    everything = stored(sender)
    assert seqs(everything) == list(range(1, 9))

    async def scenario():
        for after_seq in (0, 3, 7, 8):
            socket, _, _ = await Socket.open(wallet=sender, after_seq=after_seq)
            assert await socket.receive() == {"type": "hello", "seq": 8}
            assert await socket.receive_many(8 - after_seq) == everything[after_seq:]
            assert await socket.ping() == ([], 8)
            await socket.close()

        socket, _, _ = await Socket.open(wallet=sender, after_seq=6)
        await socket.receive_many(3)
        await pay(sender, receiver, 400)
        live = await socket.receive_many(2)
        assert seqs(live) == [9, 10]
        assert live == (await db(stored)(sender))[8:]
        await socket.close()

    run(scenario)


@pytest.mark.parametrize(
    "after_seq", ["", "abc", "-1", "01", "1.5", "%201", "1e3", "99999999999999999999", "3"]
)
def test_a_malformed_after_seq_closes_4400(after_seq, make_wallet):
    wallet = make_wallet(balance=100)  # latest seq 2: "3" is not a seq this user has seen

    async def scenario():
        socket, accepted, _ = await Socket.open(wallet=wallet, after_seq=after_seq)
        assert accepted
        assert await socket.closed_with() == 4400

    run(scenario)


def test_after_seq_twice_closes_4400(make_wallet):
    wallet = make_wallet(balance=100)

    async def scenario():
        ticket = await db(ticket_issue)(user_id=wallet.user_id)
        socket, _, _ = await Socket.open(query=f"ticket={ticket}&after_seq=1&after_seq=1")
        assert await socket.closed_with() == 4400

    run(scenario)


def _events_add(wallet: Account, count: int) -> None:
    """`count` more stored balance events for the wallet's user, numbered on from last_seq."""
    wallet.refresh_from_db()
    payload = stored(wallet)[-1]["balance"]
    first = wallet.last_seq + 1
    Event.objects.bulk_create(
        Event(user_id=wallet.user_id, seq=seq, type="balance.updated", payload=payload)
        for seq in range(first, first + count)
    )
    Account.objects.filter(pk=wallet.pk).update(last_seq=wallet.last_seq + count)


def test_more_than_1000_events_behind_or_past_retention_closes_4410(make_wallet):
    wallet = make_wallet(balance=100)
    _events_add(wallet, 1_000)  # seqs 3..1002

    async def scenario():
        socket, _, _ = await Socket.open(wallet=wallet, after_seq=2)
        assert (await socket.receive())["seq"] == 1002
        assert seqs(await socket.receive_many(1000)) == list(range(3, 1003))
        await socket.close()
        socket, _, _ = await Socket.open(wallet=wallet, after_seq=1)
        assert await socket.closed_with() == 4410

        await db(Event.objects.filter(seq__lte=500).update)(
            created_at=timezone.now() - timedelta(days=31)
        )
        socket, _, _ = await Socket.open(wallet=wallet, after_seq=499)
        assert await socket.closed_with() == 4410
        socket, _, _ = await Socket.open(wallet=wallet, after_seq=500)
        assert (await socket.receive())["seq"] == 1002
        await socket.close()

    run(scenario)


# ---- the seam: gaps, duplicates, a socket too far behind -----------------------------------


def test_live_gaps_are_filled_from_the_database_and_duplicates_dropped(make_wallet):
    sender, receiver = make_wallet(balance=10_000), make_wallet()

    async def scenario():
        socket, _, _ = await Socket.open(wallet=sender)
        assert await socket.receive() == {"type": "hello", "seq": 2}
        # Three payments are stored without being published, as if pub/sub had
        # dropped their messages; then only the last message arrives, then it and an older
        # one again.
        for amount in (100, 200, 300):
            await db(
                lambda amount=amount: _settle_unpublished(
                    sender=sender, receiver=receiver, amount=amount
                )
            )()
        everything = await db(stored)(sender)
        assert seqs(everything) == list(range(1, 9))
        await db(messages_send)(messages=[(sender.user_id, everything[7])])
        assert await socket.receive_many(6) == everything[2:8]
        await db(messages_send)(
            messages=[(sender.user_id, everything[7]), (sender.user_id, everything[4])]
        )
        assert await socket.ping() == ([], 8)
        await socket.close()

    run(scenario)


def _settle_unpublished(*, sender, receiver, amount):
    from api.transfers.signals import events_committed
    from realtime.receivers import EVENTS_PUSH, events_push

    transfer = pending_create(sender=sender, receiver=receiver, amount=amount)
    events_committed.disconnect(events_push, dispatch_uid=EVENTS_PUSH)
    try:
        settle(transfer.pk)
    finally:
        events_committed.connect(events_push, dispatch_uid=EVENTS_PUSH)


def test_a_socket_more_than_1000_events_behind_is_closed_4429(make_wallet):
    wallet = make_wallet(balance=100)

    async def scenario():
        socket, _, _ = await Socket.open(wallet=wallet)
        assert await socket.receive() == {"type": "hello", "seq": 2}
        await db(_events_add)(wallet, 1_001)
        newest = (await db(stored)(wallet))[-1]
        assert newest["seq"] == 1003
        await db(messages_send)(messages=[(wallet.user_id, newest)])
        assert await socket.closed_with() == 4429

    run(scenario)


# ---- isolation -----------------------------------------------------------------------------


def test_a_user_never_receives_another_users_events(make_wallet):
    alice, bob, carol = make_wallet(balance=10_000), make_wallet(balance=10_000), make_wallet()

    async def scenario():
        socket, _, _ = await Socket.open(wallet=alice)
        assert await socket.receive() == {"type": "hello", "seq": 2}
        # Guesses: group names, message types, seqs of Bob's stream.
        for content in [
            {"type": "subscribe", "channel": user_channel(bob.user_id)},
            {"type": "group_add", "group": f"user.{bob.user_id}"},
            {"type": "ping", "user": str(bob.user_id), "after_seq": 0},
        ]:
            await socket.send(content)
        assert await socket.ping() == ([], 2)
        await pay(bob, carol, 100)
        await pay(bob, carol, 200)
        assert await socket.ping() == ([], 2)
        await socket.close()

        # Bob has 6 events now; Alice asking for seqs after 0 gets only her own two.
        socket, _, _ = await Socket.open(wallet=alice, after_seq=0)
        assert await socket.receive() == {"type": "hello", "seq": 2}
        replayed = await socket.receive_many(2)
        assert replayed == await db(stored)(alice)
        assert replayed[0]["transfer"]["sender"]["full_name"] == "VaultPay"
        assert await socket.ping() == ([], 2)
        await socket.close()

    run(scenario)


def test_a_settled_payment_is_one_publication_one_message_per_user(make_wallet, monkeypatch):
    """Each user's events of a settlement travel as one message (`messages.batch`), and all
    the users' messages as one publication (one round trip to Redis), whether or not a
    socket listens: a PUBLISH nobody is subscribed to costs Redis next to nothing."""
    alice, bob = make_wallet(balance=10_000), make_wallet()
    publications = []
    publish = live.publish

    def recorded(pairs):
        pairs = list(pairs)
        publications.append([(str(user_id), message["type"]) for user_id, message in pairs])
        publish(pairs)

    monkeypatch.setattr(live, "publish", recorded)

    async def scenario():
        socket, _, _ = await Socket.open(wallet=alice)
        assert await socket.receive() == {"type": "hello", "seq": 2}
        await pay(alice, bob, 100)  # events for both; only Alice listens
        assert kinds(await socket.receive_many(2)) == ["transfer.updated", "balance.updated"]
        await socket.close()

    run(scenario)
    assert publications == [
        [(str(alice.user_id), "messages.batch"), (str(bob.user_id), "messages.batch")]
    ]


# ---- after commit only, failures, deactivation ---------------------------------------------


class Boom(Exception):
    pass


def test_a_rolled_back_settlement_sends_nothing(make_wallet):
    sender, receiver = make_wallet(balance=10_000), make_wallet()

    def settle_then_roll_back(transfer_id):
        with pytest.raises(Boom), transaction.atomic(durable=True):
            from api.transfers.tests.helpers import transfer_settle

            transfer_settle(transfer_id=transfer_id)
            raise Boom

    async def scenario():
        mine, _, _ = await Socket.open(wallet=sender)
        theirs, _, _ = await Socket.open(wallet=receiver)
        assert (await mine.receive())["seq"] == 2
        assert (await theirs.receive())["seq"] == 0
        rolled_back = await db(pending_create)(sender=sender, receiver=receiver, amount=700)
        await db(settle_then_roll_back)(rolled_back.pk)
        other = await db(pending_create)(sender=sender, receiver=receiver, amount=300)
        # Settles both, in acceptance order: the rolled-back attempt's seqs are reused.
        await db(settle)(other.pk)
        await db(settle)(rolled_back.pk)

        first = await mine.receive_many(2)
        assert first[0]["transfer"]["id"] == str(other.uuid)
        second = await mine.receive_many(2)
        assert second[0]["transfer"]["id"] == str(rolled_back.uuid)
        assert seqs(first + second) == [3, 4, 5, 6]
        got = await theirs.receive_many(4)
        assert [m["transfer"]["id"] for m in got[::2]] == [str(other.uuid), str(rolled_back.uuid)]
        assert seqs(got) == [1, 2, 3, 4]
        assert await mine.ping() == ([], 6)
        assert await theirs.ping() == ([], 4)

    run(scenario)


def test_a_failed_transfer_pushes_failed_with_its_code_to_the_sender_only(make_wallet):
    sender, receiver = make_wallet(balance=100), make_wallet()

    async def scenario():
        mine, _, _ = await Socket.open(wallet=sender)
        theirs, _, _ = await Socket.open(wallet=receiver)
        await mine.receive()
        await theirs.receive()
        transfer = await pay(sender, receiver, 101)
        assert transfer.status == "FAILED"
        told = await mine.receive_many(2)
        assert kinds(told) == ["transfer.updated", "balance.updated"]
        assert told[0]["transfer"]["id"] == str(transfer.uuid)
        assert (told[0]["transfer"]["status"], told[0]["transfer"]["failure_code"]) == (
            "FAILED",
            "insufficient_funds",
        )
        assert told[1]["balance"]["balance"] == "1.00"
        assert await theirs.ping() == ([], 0)
        assert await mine.ping() == ([], 4)

    run(scenario)


def test_deactivation_pushes_the_failed_pending_transfers_then_closes_4401(make_wallet):
    sender, receiver = make_wallet(balance=10_000), make_wallet()

    def deactivate(wallet):
        with transaction.atomic(durable=True):
            user_deactivate(user=wallet.user)

    async def scenario():
        first, _, _ = await Socket.open(wallet=sender)
        second, _, _ = await Socket.open(wallet=sender, after_seq=2)
        theirs, _, _ = await Socket.open(wallet=receiver)
        for socket in (first, second):
            assert await socket.receive() == {"type": "hello", "seq": 2}
        await theirs.receive()
        pending = await db(pending_create)(sender=sender, receiver=receiver, amount=100)
        await db(deactivate)(sender)
        for socket in (first, second):
            told = await socket.receive_many(2)
            assert seqs(told) == [3, 4]
            assert told[0]["transfer"]["id"] == str(pending.uuid)
            assert told[0]["transfer"]["failure_code"] == "sender_inactive"
            assert await socket.closed_with() == 4401
        assert await theirs.ping() == ([], 0)
        # And a new socket cannot be opened.
        again, _, _ = await Socket.open(wallet=sender)
        assert await again.closed_with() == 4401

    run(scenario)
