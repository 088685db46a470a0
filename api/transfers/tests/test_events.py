"""Socket events: what a settlement stores for each user, numbered without gaps."""

import re

import pytest
from django.db import transaction

from api.accounts.tests.factories import wallet_create
from api.transfers.models import Event, LedgerEntry
from api.transfers.services import deposit_accept, welcome_credit_grant
from api.transfers.settlement import transfers_settle
from api.transfers.tests.helpers import pending_create, settle

pytestmark = pytest.mark.django_db

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def stream(account) -> list[tuple[int, str, dict]]:
    events = Event.objects.filter(user=account.user).order_by("seq")
    return list(events.values_list("seq", "type", "payload"))


def party(account) -> dict:
    user = account.user
    return {"id": str(user.pk), "full_name": user.full_name, "email": user.email}


def test_success_tells_both_parties_transfer_then_balance(make_wallet):
    alice = make_wallet(balance=5000, full_name="Asha Rao")
    bob = make_wallet(full_name="Bharat Iyer")
    other = make_wallet(balance=100)
    pending_create(sender=alice, receiver=other, amount=300)
    transfer = settle(pending_create(sender=alice, receiver=bob, amount=1250, note="chai").pk)

    expected_transfer = {
        "id": str(transfer.uuid),
        "status": "SUCCESS",
        "failure_code": None,
        "amount": "12.50",
        "currency": "INR",
        "note": "chai",
        "sender": party(alice),
        "receiver": party(bob),
        "created_at": transfer.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "settled_at": transfer.settled_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    settled_at = expected_transfer["settled_at"]
    # The funding deposit took seqs 1 and 2.
    assert stream(alice)[2:] == [
        (3, "transfer.updated", expected_transfer),
        (
            4,
            "balance.updated",
            {
                "balance": "37.50",
                "pending_out": "3.00",
                "available": "34.50",
                "currency": "INR",
                "updated_at": settled_at,
            },
        ),
    ]
    assert stream(bob) == [
        (1, "transfer.updated", expected_transfer),
        (
            2,
            "balance.updated",
            {
                "balance": "12.50",
                "pending_out": "0.00",
                "available": "12.50",
                "currency": "INR",
                "updated_at": settled_at,
            },
        ),
    ]


def test_failure_tells_the_sender_only(make_wallet):
    alice, bob = make_wallet(balance=100), make_wallet()
    transfer = settle(pending_create(sender=alice, receiver=bob, amount=500).pk)

    assert [(seq, kind) for seq, kind, _ in stream(alice)] == [
        (1, "transfer.updated"),
        (2, "balance.updated"),
        (3, "transfer.updated"),
        (4, "balance.updated"),
    ]
    _, _, failed = stream(alice)[2]
    assert (failed["id"], failed["status"], failed["failure_code"]) == (
        str(transfer.uuid),
        "FAILED",
        "insufficient_funds",
    )
    assert stream(alice)[3][2]["balance"] == "1.00"
    assert stream(bob) == []


def test_treasury_transfers_tell_the_receiver_only(make_wallet, settings):
    settings.WELCOME_CREDIT_PAISE = 100000
    wallet = make_wallet()
    with transaction.atomic(durable=True):
        welcome_credit_grant(user=wallet.user)

    (_, first, welcome), (_, second, balance) = stream(wallet)
    assert (first, second) == ("transfer.updated", "balance.updated")
    assert welcome["sender"] == {"id": None, "full_name": "VaultPay", "email": None}
    assert (welcome["amount"], balance["balance"]) == ("1000.00", "1000.00")
    assert Event.objects.count() == 2


def test_a_batch_tells_each_user_every_transfer_then_one_balance(make_wallet):
    alice, bob, carol = make_wallet(balance=1000), make_wallet(), make_wallet()
    first = pending_create(sender=alice, receiver=bob, amount=100)
    second = pending_create(sender=alice, receiver=carol, amount=5000)
    third = pending_create(sender=alice, receiver=bob, amount=200)
    with transaction.atomic(durable=True):
        transfers_settle(transfer_ids=[first.pk, second.pk, third.pk])

    alice_new = [(seq, kind, p.get("id")) for seq, kind, p in stream(alice)[2:]]
    assert alice_new == [
        (3, "transfer.updated", str(first.uuid)),
        (4, "transfer.updated", str(second.uuid)),
        (5, "transfer.updated", str(third.uuid)),
        (6, "balance.updated", None),
    ]
    assert stream(alice)[-1][2]["balance"] == "7.00"
    assert [(seq, kind) for seq, kind, _ in stream(bob)] == [
        (1, "transfer.updated"),
        (2, "transfer.updated"),
        (3, "balance.updated"),
    ]
    assert stream(carol) == []


def test_seqs_count_each_users_events_without_gaps(make_wallet):
    alice, bob = make_wallet(balance=10_000), make_wallet(balance=10_000)
    for amount in (100, 20_000, 300):
        settle(pending_create(sender=alice, receiver=bob, amount=amount).pk)
        settle(pending_create(sender=bob, receiver=alice, amount=50).pk)

    for account in (alice, bob):
        account.refresh_from_db()
        seqs = [seq for seq, _, _ in stream(account)]
        assert seqs == list(range(1, account.last_seq + 1))
    # Funding 2, three sends of alice (one FAILED: hers only) 6, three receipts 6.
    assert (alice.last_seq, bob.last_seq) == (14, 12)


def test_timestamps_are_utc_with_microseconds(make_wallet):
    alice, bob = make_wallet(balance=100), make_wallet()
    settle(pending_create(sender=alice, receiver=bob, amount=100).pk)

    (_, _, transfer), (_, _, balance) = stream(bob)
    for value in (transfer["created_at"], transfer["settled_at"], balance["updated_at"]):
        assert TIMESTAMP.fullmatch(value), value


def test_a_welcome_credit_never_overtakes_an_earlier_treasury_transfer(settings, make_wallet):
    settings.WELCOME_CREDIT_PAISE = 100_000
    earlier = make_wallet()
    deposit, _ = deposit_accept(
        staff_user_id=None,
        receiver_email=earlier.user.email,
        amount=5_000,
        idempotency_key="deposit-before-welcome",
    )
    newcomer = wallet_create()

    welcome = welcome_credit_grant(user=newcomer.user)

    deposit.refresh_from_db()
    assert (deposit.status, welcome.status) == ("SUCCESS", "SUCCESS")
    first_entry = LedgerEntry.objects.filter(transfer__in=[deposit, welcome]).earliest("pk")
    assert first_entry.transfer_id == deposit.pk
