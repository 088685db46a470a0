"""How PENDING transfers settle: the batch that moves money, writes the outcomes and stores
the events, under the locks that keep it exact.

Transactions: these functions join the caller's transaction (entry points open the outermost
`atomic(durable=True)`); the money moves, the statuses and the events commit together.

Locks: a settlement takes the advisory locks of its transfers' partitions (ascending), then
locks its PENDING transfer rows in id order, then every account they touch in one
`accounts_lock` call (primary-key order), both FOR NO KEY UPDATE so that inserts whose foreign
keys point at those rows are never blocked (see lock_objects.py). No path takes these in
another order, so settlements of any mix of transfers never deadlock. The partition lock makes
its holder the partition's only settler, so a sender's transfers settle first-in, first-out
however many workers run (partitions.py says how partitions are woken and drained).
"""

import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from api.accounts.lock_objects import accounts_lock
from api.accounts.models import Account
from api.core import clock
from api.core.transactions import on_commit_robust
from api.transfers.models import Event, LedgerEntry, Transfer
from api.transfers.payloads import balance_payload, transfer_payload
from api.transfers.selectors import pending_out_by_account
from api.transfers.signals import events_committed
from api.transfers.telemetry import batch_settled

# First key of the two-key advisory lock, so these locks cannot collide with any other use.
ADVISORY_LOCK_NAMESPACE = 0x5650  # "VP"


def partitions_lock(*, partitions: Iterable[int]) -> None:
    """Takes the advisory lock of each partition, in ascending order, until the current
    transaction ends; waits while another settler holds one. Re-entrant within a transaction.

    On SQLite (the embedded demo mode) this does nothing: BEGIN IMMEDIATE already lets one
    writer at a time in, and the demo runs a single worker process.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for partition in sorted(set(partitions)):
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK_NAMESPACE, partition]
            )


@transaction.atomic(savepoint=False)
def transfers_settle(*, transfer_ids: Iterable[int]) -> list[Transfer]:
    """Settles those of the transfers that are still PENDING, one at a time in acceptance (id)
    order against running balances, and returns them (finished) in that order.

    Transaction: the caller's; the money moves, the statuses and the events commit together.
    Locks: the advisory locks of the transfers' partitions (ascending), the PENDING transfer
    rows (FOR NO KEY UPDATE, id order), then all their accounts at once in primary-key order
    (`accounts_lock`), held until the caller's transaction ends.
    The events need no further lock: `last_seq` lives on those same account rows.
    Idempotent: compare-and-set on status. A transfer that is no longer PENDING once its row
    lock is granted (PostgreSQL re-checks the WHERE clause on the newest row version) is
    skipped, so running this twice, or concurrently, settles it once.
    Outcomes, checked in this order: FAILED `expired` (older than TRANSFER_TTL_SECONDS),
    `sender_inactive`, `receiver_inactive`, `insufficient_funds` (a user wallet never goes
    below zero; the treasury may); else SUCCESS with two ledger entries. Nothing is raised
    for these; database errors propagate.
    Events (README, "Realtime"): for each user concerned, one `transfer.updated` per transfer
    finished here, then one `balance.updated` as of commit, numbered from Account.last_seq.
    """
    transfer_ids = list(transfer_ids)
    partitions_lock(
        partitions=Transfer.objects.filter(pk__in=transfer_ids)
        .values_list("partition", flat=True)
        .distinct()
    )
    return _settle_locked(
        Transfer.objects.filter(pk__in=transfer_ids, status=Transfer.Status.PENDING)
    )


def partition_settle_batch(*, partition: int, limit: int) -> int:
    """Settles up to `limit` of the partition's PENDING transfers, oldest first, and returns
    how many it finished (fewer than `limit`: the partition is drained).

    Transaction and locks: the caller's transaction; the partition's advisory lock, then as
    `transfers_settle`. Holding the partition lock makes this the partition's only settler, so
    a sender's transfers settle in acceptance order whatever the number of workers.
    """
    partitions_lock(partitions=[partition])
    pending = Transfer.objects.filter(partition=partition, status=Transfer.Status.PENDING)
    return len(_settle_locked(pending, limit=limit))


def _settle_locked(pending: QuerySet, *, limit: int | None = None) -> list[Transfer]:
    """Locks the first `limit` of the `pending` transfers (all by default) in id order, in
    the same statement that reads them, and settles them; the caller holds their partitions'
    advisory locks."""
    started = time.perf_counter()
    transfers = list(pending.order_by("pk").select_for_update(no_key=True)[:limit])
    if not transfers:
        return []
    accounts = accounts_lock(
        account_ids={t.sender_id for t in transfers} | {t.receiver_id for t in transfers}
    )
    now = clock.now()
    entries: list[LedgerEntry] = []
    moved: set[int] = set()
    for transfer in transfers:
        # The locked rows, read after the lock, carry the running balances and the users.
        transfer.sender = sender = accounts[transfer.sender_id]
        transfer.receiver = receiver = accounts[transfer.receiver_id]
        transfer.settled_at = now
        transfer.failure_code = _failure_code(transfer=transfer, now=now)
        if transfer.failure_code:
            transfer.status = Transfer.Status.FAILED
            continue
        transfer.status = Transfer.Status.SUCCESS
        sender.balance -= transfer.amount
        receiver.balance += transfer.amount
        entries += [
            LedgerEntry(
                transfer=transfer,
                account=sender,
                amount=-transfer.amount,
                balance_after=sender.balance,
            ),
            LedgerEntry(
                transfer=transfer,
                account=receiver,
                amount=transfer.amount,
                balance_after=receiver.balance,
            ),
        ]
        moved |= {sender.pk, receiver.pk}

    notices = _notices_by_account(transfers)
    touched = [accounts[pk] for pk in sorted(moved | set(notices))]
    for account in touched:
        account.updated_at = now
    _outcomes_write(transfers=transfers, now=now)
    LedgerEntry.objects.bulk_create(entries)
    # Registered before the events' publication, so the batch's duration ends at its commit.
    on_commit_robust(partial(batch_settled, transfers=transfers, started=started))
    _events_store(notices=notices, accounts=accounts)
    # One netted write per account; every entry above carries its running balance.
    _balances_write(accounts=touched, now=now)
    return transfers


def _outcomes_write(*, transfers: list[Transfer], now: datetime) -> None:
    """One UPDATE per outcome (SUCCESS, or FAILED with a given code): a batch has a handful,
    where bulk_update would build a CASE branch per row and field."""
    ids_by_outcome: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for transfer in transfers:
        ids_by_outcome[(transfer.status, transfer.failure_code)].append(transfer.pk)
    for (status, failure_code), ids in ids_by_outcome.items():
        Transfer.objects.filter(pk__in=ids).update(
            status=status, failure_code=failure_code, settled_at=now
        )


def _balances_write(*, accounts: list[Account], now: datetime) -> None:
    """Writes every account's new balance and last_seq in one UPDATE ... FROM a VALUES list
    (PostgreSQL, and SQLite >= 3.33). Django's bulk_update builds a CASE branch per row and
    field, which measured as most of a batch's CPU."""
    if not accounts:
        return
    quote = connection.ops.quote_name
    table = quote(Account._meta.db_table)
    rows = ", ".join(["(%s, %s, %s)"] * len(accounts))
    sql = (
        f"WITH new_values (id, balance, last_seq) AS (VALUES {rows}) "  # noqa: S608
        f"UPDATE {table} SET balance = new_values.balance, last_seq = new_values.last_seq, "
        f"updated_at = %s FROM new_values WHERE {table}.id = new_values.id"
    )
    params = [value for a in accounts for value in (a.pk, a.balance, a.last_seq)]
    params.append(Account._meta.get_field("updated_at").get_db_prep_save(now, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _failure_code(*, transfer: Transfer, now: datetime) -> str | None:
    """Why `transfer` fails against the running balance of its locked sender, or None."""
    if transfer.created_at < now - timedelta(seconds=settings.TRANSFER_TTL_SECONDS):
        return Transfer.FailureCode.EXPIRED
    if not _active(transfer.sender):
        return Transfer.FailureCode.SENDER_INACTIVE
    if not _active(transfer.receiver):
        return Transfer.FailureCode.RECEIVER_INACTIVE
    sender = transfer.sender
    if sender.kind == Account.Kind.WALLET and sender.balance < transfer.amount:
        return Transfer.FailureCode.INSUFFICIENT_FUNDS
    return None


def _active(account: Account) -> bool:
    """The treasury has no user and is always active."""
    return account.user is None or account.user.is_active


def _notices_by_account(transfers: list[Transfer]) -> dict[int, list[Transfer]]:
    """The finished transfers each account's user is told about, in id order. SUCCESS tells
    both parties, FAILED the sender only; the treasury has no user to tell."""
    notices: dict[int, list[Transfer]] = defaultdict(list)
    for transfer in transfers:
        parties = [transfer.sender]
        if transfer.status == Transfer.Status.SUCCESS:
            parties.append(transfer.receiver)
        for party in parties:
            if party.user_id is not None:
                notices[party.pk].append(transfer)
    return notices


def _events_store(*, notices: dict[int, list[Transfer]], accounts: dict[int, Account]) -> None:
    """Stores, per notified account (pk order), one `transfer.updated` per transfer, then one
    `balance.updated`. Advances each `last_seq`, under its row lock; the caller writes it back
    with the balances, so `balance.updated` shows the balance as of commit."""
    if not notices:
        return
    pending_out = pending_out_by_account(account_ids=notices)
    payloads = {t.pk: transfer_payload(t) for finished in notices.values() for t in finished}
    events = []
    for account_id in sorted(notices):
        account = accounts[account_id]
        stream = [(Event.Type.TRANSFER_UPDATED, payloads[t.pk]) for t in notices[account_id]]
        balance = balance_payload(account=account, pending_out=pending_out.get(account_id, 0))
        stream.append((Event.Type.BALANCE_UPDATED, balance))
        for event_type, payload in stream:
            account.last_seq += 1
            events.append(
                Event(
                    user_id=account.user_id, seq=account.last_seq, type=event_type, payload=payload
                )
            )
    Event.objects.bulk_create(events)
    on_commit_robust(partial(events_committed.send, sender=Event, events=events))
