"""Settlement that is delivered twice, races itself, dies mid-batch or rolls back: a PENDING
transfer leaves PENDING exactly once, money moves once, and nothing is enqueued or announced for
work that did not commit. Real PostgreSQL, Redis and Celery worker processes; every test ends with a
clean `ledger_audit`."""

import os
import re
import signal
import time
import uuid
from collections import Counter
from datetime import timedelta
from unittest.mock import patch

import pytest
from django.db import connection, transaction
from django.utils import timezone

from api.accounts.models import Account
from api.config.celery import app as celery_app
from api.core.redis import redis_client
from api.transfers.idempotency import transfer_fingerprint
from api.transfers.models import Event, LedgerEntry, Transfer
from api.transfers.partitions import (
    SETTLE_TASK,
    SETTLER_FLAG_SECONDS,
    WAKE_FLAG_SECONDS,
    _wake_flag,
    partition_of,
    partition_wake_clear,
)
from api.transfers.partitions import (
    _has_pending as has_pending,
)
from api.transfers.services import transfer_create_pending
from api.transfers.settlement import partition_settle_batch
from api.transfers.signals import events_committed
from api.transfers.tests.helpers import (
    broker_queued,
    broker_reset,
    broker_unacked_args,
    celery_task,
    pending_create,
    settle,
    transfer_settle,
    wait_settled,
)
from api.transfers.tests.threads import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("ledger_audited")]

SWEEP_TASK = "workers.tasks.settlement_sweep"


class Boom(Exception):
    """Raised inside a transaction to roll it back."""


@pytest.fixture
def events_told():
    """The `events` of every events_committed signal sent during the test."""
    told: list[list[Event]] = []

    def listen(sender, events, **kwargs):
        told.append(events)

    events_committed.connect(listen, weak=False)
    yield told
    events_committed.disconnect(listen)


def balances(*accounts) -> list[int]:
    rows = dict(
        Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("pk", "balance")
    )
    return [rows[a.pk] for a in accounts]


def outcomes(transfers) -> list[tuple[str, str | None]]:
    """(status, failure_code) of `transfers`, in acceptance (id) order."""
    rows = Transfer.objects.filter(pk__in=[t.pk for t in transfers]).order_by("pk")
    return list(rows.values_list("status", "failure_code"))


def assert_told_once(transfers) -> None:
    """Each finished transfer was announced once to its sender, and once to its receiver when
    it succeeded."""
    ids = [str(t.uuid) for t in transfers]
    rows = Transfer.objects.filter(uuid__in=ids).values_list(
        "uuid", "status", "sender__user_id", "receiver__user_id"
    )
    expected = Counter()
    for public_id, status, sender, receiver in rows:
        expected[(sender, str(public_id))] += 1
        if status == "SUCCESS":
            expected[(receiver, str(public_id))] += 1
    told = Event.objects.filter(type="transfer.updated", payload__id__in=ids)
    assert Counter(told.values_list("user_id", "payload__id")) == expected


# ---- redelivery ----------------------------------------------------------------------------


def test_a_settle_task_run_twice_in_a_row_or_at_once_applies_money_once(make_wallet, settings):
    settings.SETTLEMENT_BATCH_SIZE = 7  # several batches per drain, so two drains interleave
    settle_partition = celery_task(SETTLE_TASK)
    sink = make_wallet()
    in_a_row = make_wallet(balance=10_000)
    at_once = make_wallet(balance=10_000, apart_from=in_a_row)
    assert partition_of(account_id=in_a_row.pk) != partition_of(account_id=at_once.pk)
    rows = {
        payer: [pending_create(sender=payer, receiver=sink, amount=300) for _ in range(40)]
        for payer in (in_a_row, at_once)
    }

    first = settle_partition(rows[in_a_row][0].partition)
    again = settle_partition(rows[in_a_row][0].partition)
    racing = run_concurrently([lambda: settle_partition(rows[at_once][0].partition)] * 4, threads=4)

    assert (first, again, sum(racing)) == (40, 0, 40)
    expected = [("SUCCESS", None)] * 33 + [("FAILED", "insufficient_funds")] * 7
    for transfers in rows.values():
        assert outcomes(transfers) == expected
        assert_told_once(transfers)
    assert balances(in_a_row, at_once, sink) == [100, 100, 2 * 9_900]


def test_a_drain_keeps_the_partition_awake_until_it_reads_empty(make_wallet, settings):
    settings.SETTLEMENT_IDLE_MS = 20
    settle_partition = celery_task(SETTLE_TASK)
    payer, sink = make_wallet(balance=10_000), make_wallet()
    partition = partition_of(account_id=payer.pk)
    first = pending_create(sender=payer, receiver=sink, amount=100)
    broker_reset()
    reads, accepted = [], []  # (what read the partition, whether the flag was set)

    def accept():
        return pending_create(sender=payer, receiver=sink, amount=100)

    def accept_during_the_drain(*, partition, limit):
        reads.append(("batch", redis_client().exists(_wake_flag(partition))))
        if len(reads) == 1:  # a transfer accepted (on its own connection) meanwhile
            accepted.extend(run_concurrently([accept], threads=1))
        return partition_settle_batch(partition=partition, limit=limit)

    def look_with_flag(partition):
        reads.append(("look", redis_client().exists(_wake_flag(partition))))
        return has_pending(partition)

    redis_client().set(_wake_flag(partition), 1)  # as the accept that published this task
    with (
        patch("api.transfers.partitions.partition_settle_batch", accept_during_the_drain),
        patch("api.transfers.partitions._has_pending", look_with_flag),
    ):
        settled = settle_partition(partition)

    # Awake through the batches and the idle looks after them, so the accept made meanwhile
    # published no task; cleared before a last batch.
    assert settled == 2
    assert reads[-1] == ("batch", 0), reads
    assert {flag for _, flag in reads[:-1]} == {1}, reads
    assert ("look", 1) in reads  # it waited on the empty partition before letting it sleep
    assert not redis_client().exists(_wake_flag(partition))
    assert broker_queued() == 0
    assert outcomes([first, *accepted]) == [("SUCCESS", None)] * 2


def test_a_settler_lingers_on_its_partition_and_settles_what_arrives(
    make_wallet, settings, monkeypatch
):
    monkeypatch.setattr("api.transfers.partitions.DRAIN_SECONDS", 10.0)
    settings.SETTLEMENT_IDLE_MS = 1_000
    settle_partition = celery_task(SETTLE_TASK)
    payer, sink = make_wallet(balance=10_000), make_wallet()
    partition = partition_of(account_id=payer.pk)
    first = pending_create(sender=payer, receiver=sink, amount=100)
    broker_reset()
    redis_client().set(_wake_flag(partition), 1)

    def accept_later():
        time.sleep(0.3)
        return pending_create(sender=payer, receiver=sink, amount=100)

    settled, later = run_concurrently(
        [lambda: settle_partition(partition), accept_later], threads=2
    )

    # The task was still on the partition 0.3 s after its first batch: one task settled both,
    # and none was published for the second.
    assert settled == 2
    assert outcomes([first, later]) == [("SUCCESS", None)] * 2
    assert broker_queued() == 0


def test_a_settler_holds_the_flag_only_seconds_at_a_time(make_wallet):
    """A settler killed mid-drain must not leave its partition asleep until the sweep: the
    flag it holds expires within seconds, and the next accept wakes the partition."""
    settle_partition = celery_task(SETTLE_TASK)
    payer, sink = make_wallet(balance=10_000), make_wallet()
    transfer = pending_create(sender=payer, receiver=sink, amount=100)
    partition = transfer.partition
    redis_client().set(_wake_flag(partition), 1, ex=WAKE_FLAG_SECONDS)  # as the accept did
    ttls = []

    def batch(*, partition, limit):
        ttls.append(redis_client().ttl(_wake_flag(partition)))
        return partition_settle_batch(partition=partition, limit=limit)

    with patch("api.transfers.partitions.partition_settle_batch", batch):
        assert settle_partition(partition) == 1

    assert 0 < ttls[0] <= SETTLER_FLAG_SECONDS < WAKE_FLAG_SECONDS, ttls


def test_a_drain_out_of_time_hands_the_partition_to_a_new_task(make_wallet, monkeypatch):
    monkeypatch.setattr("api.transfers.partitions.DRAIN_SECONDS", 0.0)
    settle_partition = celery_task(SETTLE_TASK)
    payer, sink = make_wallet(balance=10_000), make_wallet()
    transfer = pending_create(sender=payer, receiver=sink, amount=100)
    broker_reset()

    assert settle_partition(transfer.partition) == 0

    assert broker_queued() == 1
    assert outcomes([transfer]) == [("PENDING", None)]
    assert settle(transfer.pk).status == "SUCCESS"  # the audit wants nothing left PENDING


def test_a_settle_task_published_twice_to_a_worker_applies_money_once(
    make_wallet, settlement_worker
):
    sink = make_wallet()
    payer = make_wallet(balance=10_000)
    transfers = [pending_create(sender=payer, receiver=sink, amount=300) for _ in range(40)]
    broker_reset()  # no wake-up waits: the two messages below are the only ones
    worker = settlement_worker(env={"SETTLEMENT_BATCH_SIZE": "7"})

    for _ in range(2):
        celery_app.send_task(SETTLE_TASK, args=[transfers[0].partition])
    wait_settled([t.uuid for t in transfers])
    finished = _finished_counts(worker, SETTLE_TASK, runs=2)

    assert sum(finished) == 40 and len(finished) == 2, finished
    assert outcomes(transfers) == [("SUCCESS", None)] * 33 + [("FAILED", "insufficient_funds")] * 7
    assert_told_once(transfers)
    assert balances(payer, sink) == [100, 9_900]
    assert LedgerEntry.objects.filter(transfer__in=transfers).count() == 2 * 33


def _finished_counts(worker, task: str, *, runs: int, timeout: float = 10) -> list[int]:
    """The return values of the first `runs` successful runs of `task`, from the worker log."""
    pattern = re.compile(rf"Task {re.escape(task)}\[[^\]]+\] succeeded in [0-9.e-]+s: (\d+)")
    deadline = time.monotonic() + timeout
    while True:
        counts = [int(n) for n in pattern.findall(worker.log.read_text())]
        if len(counts) >= runs or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


def test_a_batch_racing_single_settles_of_its_transfers_applies_each_once(make_wallet, settings):
    settings.SETTLEMENT_BATCH_SIZE = 5
    settle_partition = celery_task(SETTLE_TASK)
    receivers = [make_wallet() for _ in range(3)]
    payer = make_wallet(balance=5_000)
    transfers = [
        pending_create(sender=payer, receiver=receivers[i % 3], amount=200) for i in range(40)
    ]
    partition = transfers[0].partition

    def batch():
        with transaction.atomic(durable=True):
            return partition_settle_batch(partition=partition, limit=10)

    calls = [lambda: settle_partition(partition), batch]
    calls += [lambda t=t: settle(t.pk) for t in reversed(transfers)]
    run_concurrently(calls, threads=len(calls))

    # Single settles may finish a later transfer first, so which ones fail is open; how many
    # is not: the balance covers exactly 25 of them.
    statuses = outcomes(transfers)
    assert statuses.count(("SUCCESS", None)) == 25
    assert statuses.count(("FAILED", "insufficient_funds")) == 15
    assert_told_once(transfers)
    assert balances(payer) == [0]
    assert sum(balances(*receivers)) == 5_000
    assert LedgerEntry.objects.filter(transfer__in=transfers).count() == 2 * 25


def test_transfers_never_enqueued_are_settled_by_the_sweep_and_expire_past_the_ttl(
    make_wallet, settlement_worker, settings
):
    settings.SETTLEMENT_SWEEP_AFTER_SECONDS = 1
    sink = make_wallet()
    payer = make_wallet(balance=1_000)
    stale, fresh = (pending_create(sender=payer, receiver=sink, amount=600) for _ in range(2))
    ttl = timedelta(seconds=settings.TRANSFER_TTL_SECONDS + 1)
    Transfer.objects.filter(pk=stale.pk).update(created_at=timezone.now() - ttl)
    broker_reset()  # their wake-ups are lost: only the sweep can find them
    settlement_worker()
    time.sleep(1.2)  # older than SETTLEMENT_SWEEP_AFTER_SECONDS

    swept = celery_task(SWEEP_TASK)()
    settled = wait_settled([stale.uuid, fresh.uuid])

    assert swept == [stale.partition]
    # The expired one fails first and moves nothing, so the later one is covered.
    assert (settled[str(stale.uuid)].status, settled[str(stale.uuid)].failure_code) == (
        "FAILED",
        "expired",
    )
    assert settled[str(fresh.uuid)].status == "SUCCESS"
    assert balances(payer, sink) == [400, 600]
    assert celery_task(SWEEP_TASK)() == []


# ---- a worker killed mid-batch -------------------------------------------------------------


def test_a_worker_killed_mid_batch_is_recovered_by_the_sweep(
    make_wallet, settlement_worker, settings
):
    settings.SETTLEMENT_SWEEP_AFTER_SECONDS = 1
    env = {"SETTLEMENT_BATCH_SIZE": "10", "SETTLEMENT_SWEEP_AFTER_SECONDS": "1"}
    senders = [make_wallet(balance=7_000) for _ in range(32)]  # two per partition
    sinks = [make_wallet() for _ in range(4)]
    transfers = _backlog(senders=senders, sinks=sinks, per_sender=100, amount=100)
    total = len(transfers)
    assert len({t.partition for t in transfers}) == settings.SETTLEMENT_PARTITIONS

    first = settlement_worker(env=env)
    _wait_until_settling(minimum=300, total=total)
    first.kill()

    assert 0 < Transfer.objects.filter(status="PENDING").count() < total
    # The drains that died with the worker wait unacknowledged for the broker's visibility
    # timeout; every other partition's wake-up is still queued.
    lost = {args[0] for args in broker_unacked_args(SETTLE_TASK)}
    assert lost
    settlement_worker(env=env)
    _wait_until_only_pending_in(lost)
    stuck = _partitions_with_pending()
    assert stuck and set(stuck) <= lost
    swept = celery_task(SWEEP_TASK)()
    settled = wait_settled([t.uuid for t in transfers], timeout=60)

    assert swept == stuck
    assert all(t.status != "PENDING" for t in settled.values())
    # Money moved once, and each sender's transfers kept their order: the first 70 fit.
    for sender in senders:
        mine = [t for t in transfers if t.sender_id == sender.pk]
        assert outcomes(mine) == [("SUCCESS", None)] * 70 + [("FAILED", "insufficient_funds")] * 30
    assert balances(*senders) == [0] * 32
    assert sum(balances(*sinks)) == 32 * 7_000
    assert LedgerEntry.objects.filter(transfer__in=transfers).count() == 2 * 32 * 70
    # Each payment told its sender once, and its receiver once when it succeeded.
    assert Event.objects.filter(type="transfer.updated").count() == 32 + 32 * (2 * 70 + 30)


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


def _wait_until_settling(*, minimum: int, total: int, timeout: float = 30) -> None:
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


def _wait_until_only_pending_in(partitions: set[int], timeout: float = 30) -> None:
    elsewhere = Transfer.objects.filter(status="PENDING").exclude(partition__in=partitions)
    deadline = time.monotonic() + timeout
    while elsewhere.exists():
        assert time.monotonic() < deadline, f"partitions outside {partitions} still PENDING"
        time.sleep(0.05)


def _partitions_with_pending() -> list[int]:
    pending = Transfer.objects.filter(status="PENDING")
    return sorted(pending.values_list("partition", flat=True).distinct())


# ---- rollback ------------------------------------------------------------------------------


def test_a_rolled_back_accept_stores_enqueues_and_announces_nothing(make_wallet, events_told):
    alice, bob = make_wallet(balance=1_000), make_wallet()
    partition = partition_of(account_id=alice.pk)
    partition_wake_clear(partition=partition)
    events_told.clear()
    queued = broker_queued()

    def accept():
        return transfer_create_pending(
            sender=alice,
            receiver=bob,
            amount=100,
            idempotency_key="rolled-back-1",
            fingerprint=transfer_fingerprint(receiver_email=bob.user.email, amount=100, note=""),
        )

    with pytest.raises(Boom), transaction.atomic(durable=True):
        accept()
        raise Boom

    assert not Transfer.objects.filter(sender=alice).exists()
    assert not redis_client().exists(_wake_flag(partition))
    assert broker_queued() == queued
    assert events_told == []

    # The same accept committed: one row, the partition awake, one message; accepting
    # stores and announces no event.
    with transaction.atomic(durable=True):
        accept()

    assert Transfer.objects.filter(sender=alice, status="PENDING").count() == 1
    assert redis_client().exists(_wake_flag(partition))
    assert broker_queued() == queued + 1
    assert events_told == []
    settle(Transfer.objects.get(sender=alice).pk)


def test_a_rolled_back_settlement_moves_and_announces_nothing(make_wallet, events_told):
    alice, bob = make_wallet(balance=1_000), make_wallet()
    transfer = pending_create(sender=alice, receiver=bob, amount=600)
    events_told.clear()
    events_before = Event.objects.count()

    with pytest.raises(Boom), transaction.atomic(durable=True):
        assert transfer_settle(transfer_id=transfer.pk).status == "SUCCESS"
        raise Boom

    transfer.refresh_from_db()
    assert (transfer.status, transfer.settled_at) == ("PENDING", None)
    assert balances(alice, bob) == [1_000, 0]
    assert not LedgerEntry.objects.filter(transfer=transfer).exists()
    assert Event.objects.count() == events_before
    assert events_told == []

    settle(transfer.pk)

    assert balances(alice, bob) == [400, 600]
    assert alice.pk < bob.pk  # events are stored per account in primary-key order
    assert [[(e.user_id, e.seq, e.type) for e in events] for events in events_told] == [
        [
            (alice.user.pk, 3, "transfer.updated"),
            (alice.user.pk, 4, "balance.updated"),
            (bob.user.pk, 1, "transfer.updated"),
            (bob.user.pk, 2, "balance.updated"),
        ]
    ]


def test_a_pool_child_killed_mid_batch_has_its_task_redelivered(make_wallet, settlement_worker):
    senders = [make_wallet(balance=4_000) for _ in range(16)]
    sinks = [make_wallet() for _ in range(4)]
    transfers = _backlog(senders=senders, sinks=sinks, per_sender=60, amount=100)
    worker = settlement_worker(env={"SETTLEMENT_BATCH_SIZE": "10"})
    _wait_until_settling(minimum=100, total=len(transfers))

    # The worker's main process survives its pool children: it sees them die and, with
    # acks_late and reject_on_worker_lost, puts their messages back at once. No sweep here.
    for pid in _children(worker.process.pid):
        os.kill(pid, signal.SIGKILL)
    settled = wait_settled([t.uuid for t in transfers], timeout=30)

    assert all(t.status != "PENDING" for t in settled.values())
    assert "WorkerLostError" in worker.log.read_text()
    for sender in senders:
        mine = [t for t in transfers if t.sender_id == sender.pk]
        assert outcomes(mine) == [("SUCCESS", None)] * 40 + [("FAILED", "insufficient_funds")] * 20
    assert balances(*senders) == [0] * 16
    assert sum(balances(*sinks)) == 16 * 4_000
    assert_told_once(transfers)


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]
