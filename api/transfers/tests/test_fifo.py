"""Per-sender order with several workers: a sender's transfers settle in acceptance order, and each
funds check sees every earlier transfer's effect, however many worker processes drain the
partitions."""

import itertools

import pytest

from api.core.money import format_paise
from api.transfers.models import LedgerEntry, Transfer
from api.transfers.partitions import partition_of
from api.transfers.tests.helpers import client_of, deposit, pay, wait_settled
from api.transfers.tests.threads import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ledger_audited")]

# Amounts in paise, a mix of small and large, so that a large one fails and a smaller later
# one still fits.
AMOUNTS = [700, 1_500, 300, 2_500, 100, 4_000, 900, 200, 3_300, 600, 1_100, 50]
PER_SENDER = 30
BEFORE_WORKERS = 10


def two_per_partition(make_wallet) -> list:
    """Four new wallets, two in partition 0 and two in partition 1."""
    wallets: dict[int, list] = {0: [], 1: []}
    while min(len(w) for w in wallets.values()) < 2:
        wallet = make_wallet()
        partition = partition_of(account_id=wallet.pk)
        if len(wallets[partition]) < 2:
            wallets[partition].append(wallet)
    return [wallets[0][0], wallets[1][0], wallets[0][1], wallets[1][1]]


def expected_outcomes(*, balance: int, amounts: list[int]) -> list[tuple[str, str | None]]:
    """Settling in acceptance order against a running balance: exactly those that fit."""
    outcomes = []
    for amount in amounts:
        if amount <= balance:
            balance -= amount
            outcomes.append(("SUCCESS", None))
        else:
            outcomes.append(("FAILED", "insufficient_funds"))
    return outcomes


def test_a_senders_transfers_settle_in_acceptance_order_across_workers(
    make_wallet, settlement_worker, settings
):
    # Two partitions for four senders: two share each partition, and the partitions drain
    # in parallel; small batches so that one sender's transfers span many transactions.
    settings.SETTLEMENT_PARTITIONS = 2
    env = {"SETTLEMENT_PARTITIONS": "2", "SETTLEMENT_BATCH_SIZE": "3"}
    sinks = [make_wallet(), make_wallet()]
    funding = [10_000, 7_500, 20_000, 5_000]
    senders = two_per_partition(make_wallet)
    for sender, amount in zip(senders, funding, strict=True):
        deposit(account=sender, amount=amount)
    plans = {
        sender.pk: list(itertools.islice(itertools.cycle(AMOUNTS), i * 5, i * 5 + PER_SENDER))
        for i, sender in enumerate(senders)
    }
    sent: dict[int, list[str]] = {sender.pk: [] for sender in senders}

    def send(sender, amounts):
        """One client sending one payment after another: each 202 arrives before the next
        request leaves."""

        def run():
            client = client_of(sender)
            for i, amount in enumerate(amounts):
                response = pay(client, sinks[i % 2], format_paise(amount))
                assert response.status_code == 202, response.content
                sent[sender.pk].append(response.json()["id"])

        return run

    # A backlog accepted before any worker runs, then two workers of two processes each
    # settle while the rest arrives, the senders interleaved with each other.
    run_concurrently([send(s, plans[s.pk][:BEFORE_WORKERS]) for s in senders], threads=4)
    settlement_worker(concurrency=2, env=env)
    settlement_worker(concurrency=2, env=env)
    run_concurrently([send(s, plans[s.pk][BEFORE_WORKERS:]) for s in senders], threads=4)
    wait_settled([public_id for ids in sent.values() for public_id in ids])

    for sender, balance in zip(senders, funding, strict=True):
        transfers = list(Transfer.objects.filter(sender=sender).order_by("pk"))
        assert [str(t.uuid) for t in transfers] == sent[sender.pk]  # id order = sent order
        outcomes = [(t.status, t.failure_code) for t in transfers]
        assert outcomes == expected_outcomes(balance=balance, amounts=plans[sender.pk])
        assert ("FAILED", "insufficient_funds") in outcomes
        settled_at = [t.settled_at for t in transfers]
        assert settled_at == sorted(settled_at)
        debits = list(
            LedgerEntry.objects.filter(account=sender, amount__lt=0).values_list(
                "transfer_id", "pk"
            )
        )
        by_transfer = dict(debits)
        succeeded = [t.pk for t in transfers if t.status == "SUCCESS"]
        assert sorted(by_transfer) == succeeded
        entry_ids = [by_transfer[pk] for pk in succeeded]
        assert entry_ids == sorted(entry_ids)
        sender.refresh_from_db()
        assert sender.balance == balance - sum(
            amount
            for amount, (status, _) in zip(plans[sender.pk], outcomes, strict=True)
            if status == "SUCCESS"
        )
