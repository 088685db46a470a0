"""Settlement under real concurrency: threads with their own PostgreSQL connections, each
settle in its own outermost transaction as the Celery task runs it. Every test ends with a
clean `ledger_audit`."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction

from api.accounts.models import Account
from api.accounts.selectors import account_treasury_get
from api.accounts.tests.factories import wallet_create
from api.transfers.idempotency import transfer_fingerprint
from api.transfers.models import Event, LedgerEntry, Transfer
from api.transfers.services import (
    transfer_create_pending,
    transfers_settle_pending_of_user,
    welcome_credit_grant,
)
from api.transfers.tests.helpers import pending_create, settle
from api.transfers.tests.threads import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _ledger_audit_passes_afterwards():
    yield
    out = io.StringIO()
    call_command("ledger_audit", stdout=out)
    assert out.getvalue().startswith("ledger OK"), out.getvalue()


def balance(account) -> int:
    account.refresh_from_db()
    return account.balance


def test_concurrent_first_uses_share_one_treasury():
    treasuries = run_concurrently([account_treasury_get] * 20, threads=20)

    assert len({treasury.pk for treasury in treasuries}) == 1
    assert Account.objects.filter(kind="treasury").count() == 1


def test_opposite_directions_at_once_never_deadlock(make_wallet):
    alice, bob = make_wallet(balance=100_000), make_wallet(balance=100_000)

    def send(sender, receiver, amount):
        return lambda: settle(pending_create(sender=sender, receiver=receiver, amount=amount).pk)

    # Thread i < 20 always sends alice -> bob, thread i >= 20 bob -> alice; 5 rounds each.
    calls = []
    for _ in range(5):
        calls += [send(alice, bob, 1000)] * 20 + [send(bob, alice, 700)] * 20
    settled = run_concurrently(calls, threads=40)

    assert {(t.status, t.failure_code) for t in settled} == {("SUCCESS", None)}
    assert Transfer.objects.filter(status="SUCCESS").count() == 200 + 2
    assert (balance(alice), balance(bob)) == (70_000, 130_000)
    assert balance(account_treasury_get()) == -200_000
    # The funding deposit told each of them twice; every payment tells both twice.
    assert (alice.last_seq, bob.last_seq) == (2 + 400, 2 + 400)


def test_concurrent_debits_succeed_exactly_as_far_as_the_funds_go(make_wallet):
    covered, amount = 37, 500
    payer = make_wallet(balance=covered * amount)
    receivers = [make_wallet() for _ in range(5)]
    pending = [
        pending_create(sender=payer, receiver=receivers[i % 5], amount=amount) for i in range(100)
    ]

    settled = run_concurrently([lambda t=t: settle(t.pk) for t in pending], threads=50)

    outcomes = [(t.status, t.failure_code) for t in settled]
    assert outcomes.count(("SUCCESS", None)) == covered
    assert outcomes.count(("FAILED", "insufficient_funds")) == 100 - covered
    assert balance(payer) == 0
    assert sum(balance(r) for r in receivers) == covered * amount
    payer_entries = LedgerEntry.objects.filter(account=payer, amount__lt=0)
    assert sorted(payer_entries.values_list("balance_after", flat=True)) == [
        amount * n for n in range(covered)
    ]


def test_settling_one_transfer_from_many_threads_applies_it_once(make_wallet):
    alice, bob = make_wallet(balance=1000), make_wallet()
    transfer = pending_create(sender=alice, receiver=bob, amount=600)

    settled = run_concurrently([lambda: settle(transfer.pk)] * 20, threads=20)

    assert {(t.status, t.settled_at) for t in settled} == {("SUCCESS", settled[0].settled_at)}
    assert (balance(alice), balance(bob)) == (400, 600)
    assert LedgerEntry.objects.filter(transfer=transfer).count() == 2
    assert Event.objects.filter(user=alice.user).count() == 2 + 2


def test_the_same_new_key_sent_at_once_creates_one_transfer(make_wallet):
    alice, bob = make_wallet(), make_wallet()
    fingerprint = transfer_fingerprint(receiver_email=bob.user.email, amount=100, note="")

    def accept():
        with transaction.atomic(durable=True):
            return transfer_create_pending(
                sender=alice,
                receiver=bob,
                amount=100,
                idempotency_key="same-key-0001",
                fingerprint=fingerprint,
            )

    accepted = run_concurrently([accept] * 20, threads=20)

    assert len({transfer.pk for transfer, _ in accepted}) == 1
    assert [created for _, created in accepted].count(True) == 1
    assert Transfer.objects.filter(sender=alice).count() == 1
    settle(accepted[0][0].pk)


def test_welcome_credits_at_once_share_the_treasury(settings):
    settings.WELCOME_CREDIT_PAISE = 100_000
    users = [wallet_create().user for _ in range(20)]

    def register(user):
        def grant():
            with transaction.atomic(durable=True):
                return welcome_credit_grant(user=user)

        return grant

    granted = run_concurrently([register(user) for user in users], threads=20)

    assert {t.status for t in granted} == {"SUCCESS"}
    assert balance(account_treasury_get()) == -20 * 100_000
    assert Event.objects.filter(user__in=users, seq=2, type="balance.updated").count() == 20


def test_deactivation_racing_settlements_ends_every_transfer_once(make_wallet):
    # Receivers first, so the payer's pk is the highest and lock order is not creation order.
    receivers = [make_wallet(balance=1000) for _ in range(10)]
    payer = make_wallet(balance=100_000)
    out = [pending_create(sender=payer, receiver=receivers[i % 10], amount=1000) for i in range(30)]
    between = [
        pending_create(sender=receivers[i], receiver=receivers[(i + 1) % 10], amount=100)
        for i in range(10)
    ]

    def deactivate():
        with transaction.atomic(durable=True):
            payer.user.is_active = False
            payer.user.save(update_fields=["is_active"])
            return transfers_settle_pending_of_user(user=payer.user)

    calls = [lambda t=t: settle(t.pk) for t in out + between]
    calls.insert(15, deactivate)
    run_concurrently(calls, threads=41)

    out_outcomes = list(
        Transfer.objects.filter(pk__in=[t.pk for t in out]).values_list("status", "failure_code")
    )
    assert set(out_outcomes) <= {("SUCCESS", None), ("FAILED", "sender_inactive")}
    succeeded = out_outcomes.count(("SUCCESS", None))
    assert balance(payer) == 100_000 - 1000 * succeeded
    assert set(
        Transfer.objects.filter(pk__in=[t.pk for t in between]).values_list("status", flat=True)
    ) == {"SUCCESS"}
    assert not Transfer.objects.filter(status="PENDING").exists()
