"""Every rule about moving money lives here.

Transactions: only entry points (API views, Celery tasks, management commands) open the
outermost `transaction.atomic(durable=True)`. These services join the caller's transaction
(`atomic(savepoint=False)`): nothing they write is visible before the caller commits, and an
exception they raise rolls back the caller's whole transaction.

Locks: a settlement locks its PENDING transfer rows in id order, then every account they touch
in one `accounts_lock` call (primary-key order), both FOR NO KEY UPDATE so that inserts whose
foreign keys point at those rows are never blocked (see lock_objects.py). No path locks a
transfer after an account, so settlements of any mix of transfers never deadlock.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.accounts.lock_objects import accounts_lock
from api.accounts.models import Account
from api.accounts.selectors import account_treasury_get, account_wallet_get
from api.core.exceptions import ApplicationError
from api.transfers.idempotency import transfer_fingerprint, welcome_idempotency_key
from api.transfers.models import Event, LedgerEntry, Transfer
from api.transfers.payloads import balance_payload, transfer_payload
from api.transfers.selectors import pending_out_by_account

# Per-kind upper bounds (settings names); a welcome credit is bounded by its setting alone.
_AMOUNT_LIMIT_SETTINGS = {
    Transfer.Kind.PAYMENT: "MAX_TRANSFER_AMOUNT_PAISE",
    Transfer.Kind.DEPOSIT: "MAX_DEPOSIT_AMOUNT_PAISE",
}


@transaction.atomic(savepoint=False)
def transfer_create_pending(
    *,
    sender: Account,
    receiver: Account,
    amount: int,
    idempotency_key: str,
    fingerprint: str,
    note: str = "",
    kind: str = Transfer.Kind.PAYMENT,
    initiated_by: AbstractBaseUser | None = None,
) -> tuple[Transfer, bool]:
    """Accepts a transfer: one PENDING row keyed by (sender, idempotency_key), returned with
    True when this call created it. Moves no money and checks no funds; settlement does.

    Transaction: the caller's, at READ COMMITTED (Django's default), so that a row inserted
    by a concurrent request of the same key is visible once that request commits. Locks: none
    taken explicitly; an insert racing another of the same key waits on the unique index
    until the other transaction ends.
    Idempotent: the key is looked up before anything is validated (contract order). A known
    key with the same fingerprint returns that transfer, whatever its state, and False; the
    same new key sent many times at once inserts one row (ON CONFLICT DO NOTHING) and the
    others return it as a replay.
    Raises ApplicationError: `idempotency_key_reused` (422) for a known key with another
    fingerprint; `self_transfer`, `receiver_not_found` or `validation_error` (400) for a new
    key with an invalid request, storing nothing.
    """
    existing = _transfer_by_key(sender=sender, idempotency_key=idempotency_key)
    if existing is None:
        _validate_new_transfer(
            sender=sender, receiver=receiver, amount=amount, note=note, kind=kind
        )
        candidate = Transfer(
            sender=sender,
            receiver=receiver,
            amount=amount,
            note=note,
            kind=kind,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            initiated_by=initiated_by,
        )
        Transfer.objects.bulk_create([candidate], ignore_conflicts=True)
        existing = _transfer_by_key(sender=sender, idempotency_key=idempotency_key)
        if existing.uuid == candidate.uuid:
            return existing, True
    if existing.fingerprint != fingerprint:
        raise ApplicationError(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different transfer.",
            status=422,
        )
    return existing, False


def _transfer_by_key(*, sender: Account, idempotency_key: str) -> Transfer | None:
    return (
        Transfer.objects.select_related("sender__user", "receiver__user")
        .filter(sender=sender, idempotency_key=idempotency_key)
        .first()
    )


def _validate_new_transfer(
    *, sender: Account, receiver: Account, amount: int, note: str, kind: str
) -> None:
    if receiver.pk == sender.pk:
        raise ApplicationError("self_transfer", "You cannot send money to yourself.")
    if receiver.user is not None and not receiver.user.is_active:
        raise ApplicationError("receiver_not_found", "No active user has this email.")
    fields = {}
    limit_setting = _AMOUNT_LIMIT_SETTINGS.get(kind)
    if amount <= 0:
        fields["amount"] = ["Must be more than 0.00."]
    elif limit_setting and amount > getattr(settings, limit_setting):
        fields["amount"] = ["Exceeds the maximum amount."]
    if len(note) > Transfer._meta.get_field("note").max_length:
        fields["note"] = ["At most 140 characters."]
    if fields:
        raise ApplicationError("validation_error", "Some fields are invalid.", fields=fields)


@transaction.atomic(savepoint=False)
def transfers_settle(*, transfer_ids: Iterable[int]) -> list[Transfer]:
    """Settles those of the transfers that are still PENDING, one at a time in acceptance (id)
    order against running balances, and returns them (finished) in that order.

    Transaction: the caller's; the money moves, the statuses and the events commit together.
    Locks: the PENDING transfer rows (FOR NO KEY UPDATE, id order), then all their accounts
    at once in primary-key order (`accounts_lock`), held until the caller's transaction ends.
    The events need no further lock: `last_seq` lives on those same account rows.
    Idempotent: compare-and-set on status. A transfer that is no longer PENDING once its row
    lock is granted (PostgreSQL re-checks the WHERE clause on the newest row version) is
    skipped, so running this twice, or concurrently, settles it once.
    Outcomes, checked in this order: FAILED `expired` (older than TRANSFER_TTL_SECONDS),
    `sender_inactive`, `receiver_inactive`, `insufficient_funds` (a user wallet never goes
    below zero; the treasury may); else SUCCESS with two ledger entries. Nothing is raised
    for these; database errors propagate.
    Events (contract section 5): for each user concerned, one `transfer.updated` per transfer
    finished here, then one `balance.updated` as of commit, numbered from Account.last_seq.
    """
    transfers = list(
        Transfer.objects.filter(pk__in=list(transfer_ids), status=Transfer.Status.PENDING)
        .order_by("pk")
        .select_for_update(no_key=True)
    )
    if not transfers:
        return []
    accounts = accounts_lock(
        account_ids={t.sender_id for t in transfers} | {t.receiver_id for t in transfers}
    )
    now = timezone.now()
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
    Transfer.objects.bulk_update(transfers, ["status", "failure_code", "settled_at"])
    LedgerEntry.objects.bulk_create(entries)
    _events_store(notices=notices, accounts=accounts)
    # One netted write per account; every entry above carries its running balance.
    Account.objects.bulk_update(touched, ["balance", "last_seq", "updated_at"])
    return transfers


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


def transfer_settle(*, transfer_id: int) -> Transfer:
    """Settles one transfer if it is still PENDING and returns it in its current state, with
    sender and receiver users loaded.

    Transaction, locks, idempotency and outcomes: as `transfers_settle`. Re-running on a
    settled transfer returns it unchanged. Raises Transfer.DoesNotExist for an unknown id.
    """
    settled = transfers_settle(transfer_ids=[transfer_id])
    if settled:
        return settled[0]
    return Transfer.objects.select_related("sender__user", "receiver__user").get(pk=transfer_id)


@transaction.atomic(savepoint=False)
def welcome_credit_grant(*, user: AbstractBaseUser) -> Transfer | None:
    """Credits WELCOME_CREDIT_PAISE from the treasury to the user's wallet and settles it at
    once; None when the welcome credit is 0.

    Transaction: the caller's (registration), after `account_create_wallet`. Locks: as
    `transfers_settle`: the treasury and the wallet rows, in pk order. The treasury row is
    shared by every welcome credit, so registrations settle it one at a time.
    Idempotent: the treasury-scoped key is derived from the user id, so a user is credited at
    most once; a repeated call returns the first transfer.
    Raises Account.DoesNotExist without a wallet; ApplicationError `receiver_not_found` for
    an inactive user.
    """
    amount = settings.WELCOME_CREDIT_PAISE
    if amount == 0:
        return None
    transfer, _ = transfer_create_pending(
        sender=account_treasury_get(),
        receiver=account_wallet_get(user=user),
        amount=amount,
        idempotency_key=welcome_idempotency_key(user_id=user.pk),
        fingerprint=transfer_fingerprint(receiver_email=user.email, amount=amount, note=""),
        kind=Transfer.Kind.WELCOME,
    )
    return transfer_settle(transfer_id=transfer.pk)


def transfers_settle_pending_of_user(*, user: AbstractBaseUser) -> int:
    """Settles every PENDING transfer the user sends or receives, as one batch; returns how
    many it finished. Used by deactivation after `is_active` is set False in the same
    transaction, so they all end FAILED `sender_inactive` / `receiver_inactive`.

    Transaction, locks and idempotency: as `transfers_settle`. A user without a wallet has
    nothing pending: returns 0.
    """
    pending = Transfer.objects.filter(
        Q(sender__user=user) | Q(receiver__user=user), status=Transfer.Status.PENDING
    ).values_list("pk", flat=True)
    return len(transfers_settle(transfer_ids=list(pending)))
