"""End to end with real processes: the socket server (Procfile `ws`) serving HTTP and WebSockets, a
Celery worker process settling, PostgreSQL and Redis; `websockets` clients for sender and
receiver; transfers POSTed over HTTP."""

import time
import uuid

import pytest
from django.db import connection, transaction
from rest_framework_simplejwt.tokens import AccessToken

from api.transfers.idempotency import transfer_fingerprint
from api.transfers.models import Event, Transfer
from api.transfers.payloads import event_message
from api.transfers.services import transfer_create_pending
from api.transfers.tests.helpers import celery_task, wait_settled
from realtime.tests.processes import AsgiServer, Watcher

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ledger_audited")]

SWEEP_TASK = "workers.tasks.settlement_sweep"


@pytest.fixture
def asgi_server(transactional_db, tmp_path):
    server = AsgiServer(log=tmp_path / "ws.log").start()
    yield server
    server.stop()


def token_of(wallet) -> str:
    return str(AccessToken.for_user(wallet.user))


def watch(server: AsgiServer, wallet, after_seq: int | None = None) -> Watcher:
    status, ticket = server.call("POST", "/api/realtime/ticket/", token=token_of(wallet))
    assert status == 200, ticket
    assert ticket["url"] == f"ws://127.0.0.1:{server.port}/ws/notifications/"
    query = f"?ticket={ticket['ticket']}" + (f"&after_seq={after_seq}" if after_seq else "")
    return Watcher(ticket["url"] + query)


def pay_over_http(server: AsgiServer, sender, receiver, amount: str) -> str:
    status, body = server.call(
        "POST",
        "/api/wallet/transfer/",
        {"receiver_email": receiver.user.email, "amount": amount},
        token=token_of(sender),
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert (status, body["status"]) == (202, "PENDING"), body
    return body["id"]


def stored(wallet, after_seq: int = 0) -> list[dict]:
    rows = (
        Event.objects.filter(user_id=wallet.user_id, seq__gt=after_seq)
        .order_by("seq")
        .values_list("type", "seq", "payload")
    )
    return [event_message(event_type=t, seq=s, payload=p) for t, s, p in rows]


def test_a_payment_over_http_reaches_both_sockets_in_seq_order(
    asgi_server, settlement_worker, make_wallet
):
    settlement_worker(concurrency=1)
    sender, receiver = make_wallet(balance=10_000), make_wallet()
    mine, theirs = watch(asgi_server, sender), watch(asgi_server, receiver)
    assert mine.wait_for(1) == [{"type": "hello", "seq": 2}]
    assert theirs.wait_for(1) == [{"type": "hello", "seq": 0}]

    transfer_id = pay_over_http(asgi_server, sender, receiver, "25.00")

    sent, got = mine.wait_for(3)[1:], theirs.wait_for(3)[1:]
    assert [(m["type"], m["seq"]) for m in sent] == [
        ("transfer.updated", 3),
        ("balance.updated", 4),
    ]
    assert [(m["type"], m["seq"]) for m in got] == [("transfer.updated", 1), ("balance.updated", 2)]
    for messages in (sent, got):
        assert messages[0]["transfer"]["id"] == transfer_id
        assert messages[0]["transfer"]["status"] == "SUCCESS"
    assert sent[1]["balance"]["balance"] == "75.00"
    assert got[1]["balance"]["balance"] == "25.00"
    for wallet, messages in ((sender, sent), (receiver, got)):
        status, balance = asgi_server.call("GET", "/api/wallet/balance/", token=token_of(wallet))
        assert status == 200
        assert messages[1]["balance"]["balance"] == balance["balance"]
    assert (mine.sync(), theirs.sync()) == (4, 2)
    assert mine.events() == stored(sender)[2:]
    assert theirs.events() == stored(receiver)
    mine.close()
    theirs.close()


def test_a_socket_resumes_after_the_last_seq_it_saw_with_exactly_what_it_missed(
    asgi_server, settlement_worker, make_wallet
):
    settlement_worker(concurrency=1)
    sender, receiver = make_wallet(balance=100_000), make_wallet()
    first = watch(asgi_server, sender)
    first.wait_for(1)
    pay_over_http(asgi_server, sender, receiver, "1.00")
    last_seen = first.wait_for(3)[-1]["seq"]
    assert last_seen == 4
    first.close()

    missed = [pay_over_http(asgi_server, sender, receiver, f"{n}.00") for n in range(1, 21)]
    wait_settled(missed)
    expected = stored(sender, after_seq=last_seen)
    latest = expected[-1]["seq"]

    again = watch(asgi_server, sender, after_seq=last_seen)
    replayed = again.wait_for(1 + len(expected))
    assert replayed[0] == {"type": "hello", "seq": latest}
    assert replayed[1:] == expected
    assert [m["seq"] for m in replayed[1:]] == list(range(last_seen + 1, latest + 1))
    told = [m["transfer"]["id"] for m in replayed[1:] if m["type"] == "transfer.updated"]
    assert told == missed
    assert replayed[-1]["type"] == "balance.updated"
    assert replayed[-1]["balance"]["balance"] == f"{1000 - 1 - sum(range(1, 21))}.00"

    live = pay_over_http(asgi_server, sender, receiver, "2.00")
    then = again.wait_for(len(replayed) + 2)[len(replayed) :]
    assert [(m["type"], m["seq"]) for m in then] == [
        ("transfer.updated", latest + 1),
        ("balance.updated", latest + 2),
    ]
    assert then[0]["transfer"]["id"] == live
    again.close()


def test_a_worker_killed_mid_batch_then_the_sweep_delivers_every_event_exactly_once(
    asgi_server, settlement_worker, make_wallet, settings
):
    settings.SETTLEMENT_SWEEP_AFTER_SECONDS = 0
    env = {"SETTLEMENT_BATCH_SIZE": "5"}
    senders = [make_wallet(balance=2_000) for _ in range(16)]
    sinks = [make_wallet() for _ in range(2)]
    wallets = senders + sinks
    watchers = [watch(asgi_server, wallet) for wallet in wallets]
    for watcher in watchers:
        watcher.wait_for(1)
    transfers = _backlog(senders=senders, sinks=sinks, per_sender=30, amount=100)

    first = settlement_worker(concurrency=1, env=env)
    _wait_until_settling(minimum=40, total=len(transfers))
    first.kill()
    assert Transfer.objects.filter(status="PENDING").exists()
    settlement_worker(concurrency=1, env=env)
    deadline = time.monotonic() + 120
    while Transfer.objects.filter(status="PENDING").exists():
        assert time.monotonic() < deadline, "the sweep did not finish the backlog"
        celery_task(SWEEP_TASK)()
        time.sleep(0.2)
    wait_settled([t.uuid for t in transfers])

    for wallet, watcher in zip(wallets, watchers, strict=True):
        expected = stored(wallet)
        latest = expected[-1]["seq"]
        assert watcher.sync(at_least=latest) == latest
        # hello, then every stored event once, in seq order (no gap, no duplicate).
        assert watcher.messages[0]["type"] == "hello"
        assert watcher.events() == expected[watcher.messages[0]["seq"] :]
        assert [m["seq"] for m in watcher.events()] == list(
            range(watcher.messages[0]["seq"] + 1, latest + 1)
        )
    # Each sender was told of each of its 30 payments exactly once, in acceptance order.
    for sender, watcher in zip(senders, watchers[: len(senders)], strict=True):
        mine = [str(t.uuid) for t in transfers if t.sender_id == sender.pk]
        told = [m["transfer"]["id"] for m in watcher.events() if m["type"] == "transfer.updated"]
        assert told == mine
    for watcher in watchers:
        watcher.close()


def _backlog(*, senders, sinks, per_sender: int, amount: int) -> list[Transfer]:
    """PENDING payments accepted round-robin across `senders`, committed at once."""
    accepted = []
    with transaction.atomic(durable=True):
        for _ in range(per_sender):
            for i, sender in enumerate(senders):
                receiver = sinks[i % len(sinks)]
                transfer, _ = transfer_create_pending(
                    sender=sender,
                    receiver=receiver,
                    amount=amount,
                    idempotency_key=uuid.uuid4().hex,
                    fingerprint=transfer_fingerprint(
                        receiver_email=receiver.user.email, amount=amount, note=""
                    ),
                )
                accepted.append(transfer)
    return accepted


def _wait_until_settling(*, minimum: int, total: int, timeout: float = 60) -> None:
    """Returns while a worker has a settling transaction open and at least `minimum` of the
    `total` transfers have settled."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = Transfer.objects.exclude(status="PENDING").count()
        assert done < total, "the worker settled the whole backlog before it could be killed"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            )
            open_transactions = cursor.fetchone()[0]
        if done >= minimum and open_transactions:
            return
        time.sleep(0.01)
    raise AssertionError(f"the worker did not settle {minimum} transfers in {timeout} s")
