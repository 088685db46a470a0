"""The accept -> Celery -> settle pipeline with a real worker process, PostgreSQL and Redis."""

import time

import pytest
from django.db import connection
from django.db.models import Sum

from api.accounts.models import Account
from api.transfers.models import LedgerEntry
from api.transfers.tests.helpers import client_of, pay, wait_settled
from api.transfers.tests.threads import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ledger_audited")]


def test_a_payment_is_accepted_pending_and_settled_by_the_worker(make_wallet, settlement_worker):
    settlement_worker()
    alice, bob = make_wallet(balance=10_000), make_wallet()
    client = client_of(alice)

    accepted = pay(client, bob, "25.50")

    assert accepted.status_code == 202, accepted.content
    body = accepted.json()
    assert body["status"] == "PENDING"
    assert accepted["Location"] == f"/api/wallet/transfers/{body['id']}/"
    assert wait_settled([body["id"]])[body["id"]].status == "SUCCESS"
    shown = client.get(accepted["Location"]).json()
    assert (shown["status"], shown["amount"], shown["settled_at"] is not None) == (
        "SUCCESS",
        "25.50",
        True,
    )
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.balance, bob.balance) == (10_000 - 2550, 2550)


def test_concurrent_payments_succeed_exactly_as_far_as_the_funds_go(make_wallet, settlement_worker):
    settlement_worker()
    covered, amount = 37, 500
    payer = make_wallet(balance=covered * amount)
    receivers = [make_wallet() for _ in range(4)]

    def send(i: int):
        return lambda: pay(client_of(payer), receivers[i % 4], "5.00")

    responses = run_concurrently([send(i) for i in range(100)], threads=50)

    assert [r.status_code for r in responses] == [202] * 100
    settled = wait_settled([r.json()["id"] for r in responses]).values()
    outcomes = [(t.status, t.failure_code) for t in settled]
    assert outcomes.count(("SUCCESS", None)) == covered
    assert outcomes.count(("FAILED", "insufficient_funds")) == 100 - covered
    payer.refresh_from_db()
    assert payer.balance == 0
    assert (
        sum(
            Account.objects.filter(pk__in=[r.pk for r in receivers]).values_list(
                "balance", flat=True
            )
        )
        == covered * amount
    )
    # Every running balance of the payer, in entry order: never below zero, one debit each.
    running = list(
        LedgerEntry.objects.filter(account=payer)
        .order_by("pk")
        .values_list("balance_after", flat=True)
    )
    assert min(running) >= 0
    assert running == [covered * amount] + [amount * n for n in reversed(range(covered))]


def test_opposite_directions_over_http_never_deadlock(make_wallet, settlement_worker):
    worker = settlement_worker()
    alice, bob = make_wallet(balance=100_000), make_wallet(balance=100_000)
    deadlocks_before = _deadlocks()

    def send(sender, receiver, amount):
        return lambda: pay(client_of(sender), receiver, amount)

    calls = [send(alice, bob, "10.00")] * 40 + [send(bob, alice, "7.00")] * 40
    responses = run_concurrently(calls, threads=80)

    assert [r.status_code for r in responses] == [202] * 80
    settled = wait_settled([r.json()["id"] for r in responses]).values()
    assert {(t.status, t.failure_code) for t in settled} == {("SUCCESS", None)}
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.balance, bob.balance) == (100_000 - 40_000 + 28_000, 100_000 + 40_000 - 28_000)
    assert Account.objects.aggregate(total=Sum("balance"))["total"] == 0
    worker.stop()  # a backend flushes its statistics when it exits
    log = worker.log.read_text()
    assert "deadlock" not in log.lower() and "Retry" not in log, log
    assert _deadlocks(settle_for=1.0) == deadlocks_before


def _deadlocks(settle_for: float = 0) -> int:
    """Deadlocks PostgreSQL has detected in the test database so far."""
    time.sleep(settle_for)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]
