"""Backpressure: past MAX_PENDING PENDING transfers, or with the oldest PENDING older than
MAX_PENDING_AGE seconds, new transfers and deposits answer 503 `overloaded` with Retry-After,
store nothing and leave their key unused; known keys, and keys being stored at that moment,
replay. Nothing settles in these tests until a worker is started."""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from api.accounts.selectors import account_treasury_get
from api.core.testing import assert_error
from api.transfers.backlog import backlog_overloaded
from api.transfers.idempotency import transfer_fingerprint
from api.transfers.models import Transfer
from api.transfers.partitions import partition_of
from api.transfers.tests.helpers import client_of, pay, pending_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ledger_audited")]


@pytest.fixture
def people(make_wallet):
    alice, bob, staff = make_wallet(balance=100_000), make_wallet(), make_wallet()
    staff.user.is_staff = True
    staff.user.save(update_fields=["is_staff"])
    return alice, bob, staff


def wait_until(overloaded: bool) -> None:
    """The process's view of the backlog is at most a second old: wait for it to change."""
    deadline = time.monotonic() + 10
    while backlog_overloaded() != overloaded:
        assert time.monotonic() < deadline, f"still overloaded={not overloaded}"
        time.sleep(0.1)


def deposit_call(staff, receiver, key: str, amount: str = "5.00"):
    return client_of(staff).post(
        "/api/wallet/deposits/",
        {"email": receiver.user.email, "amount": amount},
        format="json",
        headers={"Idempotency-Key": key},
    )


def assert_overloaded(response) -> None:
    assert_error(response, 503, "overloaded")
    assert response["Retry-After"] == "2"


def test_past_max_pending_new_transfers_and_deposits_are_refused_until_workers_drain(
    settings, people, settlement_worker
):
    alice, bob, staff = people
    known = [pending_create(sender=alice, receiver=bob, amount=100) for _ in range(4)]
    known_deposit = pending_create(
        sender=account_treasury_get(), receiver=bob, amount=500, kind=Transfer.Kind.DEPOSIT
    )
    settings.MAX_PENDING = 3  # set after: the process's view may be older than this test
    wait_until(overloaded=True)
    stored = Transfer.objects.count()

    assert_overloaded(pay(client_of(alice), bob, "1.00", key="new-key-hot"))
    full_path = client_of(alice).post(
        "/api/wallet/transfer/",
        {"receiver_email": bob.user.email, "amount": "1.00", "currency": "INR"},
        format="json",
        headers={"Idempotency-Key": "new-key-full"},
    )
    assert_overloaded(full_path)
    assert_overloaded(deposit_call(staff, bob, "new-deposit-key"))
    assert Transfer.objects.count() == stored

    replay = pay(client_of(alice), bob, "1.00", key=known[0].idempotency_key)
    assert replay.status_code == 200, replay.content
    assert replay.json()["id"] == str(known[0].uuid)
    deposit_replay = deposit_call(staff, bob, known_deposit.idempotency_key)
    assert deposit_replay.status_code == 200, deposit_replay.content

    settlement_worker()
    wait_until(overloaded=False)
    assert pay(client_of(alice), bob, "1.00", key="new-key-hot").status_code == 202
    assert deposit_call(staff, bob, "new-deposit-key").status_code == 202


def test_an_old_pending_transfer_refuses_new_ones_until_it_settles(
    settings, people, settlement_worker
):
    alice, bob, _ = people
    waiting = pending_create(sender=alice, receiver=bob, amount=100)
    Transfer.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(seconds=31))
    settings.MAX_PENDING_AGE = 30
    wait_until(overloaded=True)

    assert_overloaded(pay(client_of(alice), bob, "1.00", key="after-old-one"))
    assert not Transfer.objects.filter(idempotency_key="after-old-one").exists()

    settlement_worker()
    wait_until(overloaded=False)
    assert pay(client_of(alice), bob, "1.00", key="after-old-one").status_code == 202


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_a_key_being_stored_concurrently_replays_and_never_gets_503(settings, people, outcome):
    """Another request (whose process saw no overload yet) is storing the key in a
    transaction not yet committed: this request waits for it on the unique index, then
    replays the stored transfer; if that transaction rolls back, the key is new after all and
    this one is refused."""
    alice, bob, _ = people
    pending_create(sender=alice, receiver=bob, amount=100)
    settings.MAX_PENDING = 0
    wait_until(overloaded=True)
    key = f"concurrent-{uuid.uuid4().hex}"
    inserted, release, answers = threading.Event(), threading.Event(), []

    def store_concurrently() -> None:
        try:
            with transaction.atomic(durable=True):
                Transfer.objects.create(
                    uuid=uuid.uuid4(),
                    kind=Transfer.Kind.PAYMENT,
                    sender=alice,
                    receiver=bob,
                    amount=100,
                    idempotency_key=key,
                    fingerprint=transfer_fingerprint(
                        receiver_email=bob.user.email, amount=100, note=""
                    ),
                    partition=partition_of(account_id=alice.pk),
                    created_at=timezone.now(),
                )
                inserted.set()
                release.wait(timeout=30)
                if outcome == "rollback":
                    transaction.set_rollback(True)
        finally:
            connections.close_all()

    def request() -> None:
        try:
            answers.append(pay(client_of(alice), bob, "1.00", key=key))
        finally:
            connections.close_all()

    storer = threading.Thread(target=store_concurrently)
    storer.start()
    assert inserted.wait(timeout=30)
    requester = threading.Thread(target=request)
    requester.start()
    time.sleep(0.5)
    assert requester.is_alive()  # waiting on the other transaction's insert of the key
    release.set()
    storer.join(timeout=30)
    requester.join(timeout=30)

    if outcome == "commit":
        assert answers[0].status_code == 200, answers[0].content
        assert Transfer.objects.filter(idempotency_key=key).count() == 1
    else:
        assert_overloaded(answers[0])
        assert not Transfer.objects.filter(idempotency_key=key).exists()
