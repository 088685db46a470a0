"""The transfer use cases: accepting payments and deposits, welcome credits, and settling what
a deactivated user has pending. settlement.py moves the money; partitions.py wakes and drains
the settlement partitions.

Transactions: only entry points (API views, Celery tasks, management commands) open the
outermost `transaction.atomic(durable=True)`. These services join the caller's transaction
(`atomic(savepoint=False)`): nothing they write is visible before the caller commits, and an
exception they raise rolls back the caller's whole transaction.
"""

import uuid
from contextlib import nullcontext
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Q

from api.accounts.models import Account
from api.accounts.selectors import account_treasury_get, account_wallet_get
from api.core import clock
from api.core.exceptions import ApplicationError
from api.core.metrics.catalogue import TRANSFERS_ACCEPTED
from api.core.money import format_paise
from api.core.transactions import on_commit_robust
from api.transfers.accept_statement import accept_row
from api.transfers.backlog import OVERLOADED_RETRY_AFTER_SECONDS, backlog_overloaded
from api.transfers.idempotency import transfer_fingerprint, welcome_idempotency_key
from api.transfers.models import Transfer
from api.transfers.partitions import partition_of, partition_wake
from api.transfers.payloads import PartyPayload, TransferPayload, transfer_payload_of
from api.transfers.settlement import partition_settle_batch, transfers_settle

# Per-kind upper bounds (settings names); a welcome credit is bounded by its setting alone.
_AMOUNT_LIMIT_SETTINGS = {
    Transfer.Kind.PAYMENT: "MAX_TRANSFER_AMOUNT_PAISE",
    Transfer.Kind.DEPOSIT: "MAX_DEPOSIT_AMOUNT_PAISE",
}


def transfer_create_pending(
    *,
    sender: Account,
    receiver: Account | None,
    amount: int,
    idempotency_key: str,
    fingerprint: str,
    note: str = "",
    kind: str = Transfer.Kind.PAYMENT,
    initiated_by_id: object = None,
    request_id: str | None = None,
) -> tuple[Transfer, bool]:
    """Accepts a transfer: one PENDING row keyed by (sender, idempotency_key), returned with
    True when this call created it, and a wake-up of its settlement partition after commit.
    `request_id` is stored with it for the settler's log lines.
    Moves no money and checks no funds; settlement does. `receiver` is None when no active
    user has the requested email. Load both accounts with their users.

    Transaction: the caller's, or none: the INSERT is the only write, so the hot path runs it
    in autocommit and saves BEGIN and COMMIT. At READ COMMITTED (Django's default) a row
    inserted by a concurrent request of the same key is visible once that request commits.
    Locks: none taken explicitly; an insert racing another of the same key waits on the
    unique index until the other transaction ends.
    Idempotent: a well-formed new request is one INSERT ... ON CONFLICT DO NOTHING; when the
    key is taken (or the request is invalid) the key decides first, being looked up before
    validation: the same fingerprint returns that transfer, whatever its state, and False; the
    same new key sent many times at once inserts one row and the others return it as a replay.
    Backpressure: while the backlog is over its limits (backlog.py), a new payment or deposit
    is inserted in a savepoint and rolled back, so overload is decided after the key lookup:
    a known key, or one a concurrent request is storing (the insert waits for it), replays.
    Welcome credits are exempt: they settle in the request that makes them.
    Raises ApplicationError: `idempotency_key_reused` (422) for a known key with another
    fingerprint; `self_transfer`, `receiver_not_found` or `validation_error` (400) for a new
    key with an invalid request, storing nothing; `overloaded` (503) for a new key while the
    backlog is over its limits, storing nothing and leaving the key unused.
    """
    problem = _new_transfer_problem(
        sender=sender, receiver=receiver, amount=amount, note=note, kind=kind
    )
    if problem is None:
        overloaded = kind != Transfer.Kind.WELCOME and backlog_overloaded()
        with transaction.atomic() if overloaded else nullcontext():
            transfer = _pending_insert(
                sender=sender,
                receiver=receiver,
                amount=amount,
                note=note,
                kind=kind,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                initiated_by_id=initiated_by_id,
                request_id=request_id,
            )
            if transfer is not None and overloaded:
                raise _overloaded()  # rolls the insert back
        if transfer is not None:
            TRANSFERS_ACCEPTED.labels(kind).inc()
            # Robust: the commit stands even if Redis is down; the sweep wakes it later.
            on_commit_robust(partial(partition_wake, partition=transfer.partition))
            return transfer, True
    # Either the key is taken (the insert did nothing) or the request is invalid.
    existing = _transfer_by_key(sender=sender, idempotency_key=idempotency_key)
    if existing is None:
        raise problem  # the insert only does nothing when the key exists
    if existing.fingerprint != fingerprint:
        raise _key_reused()
    return existing, False


def transfer_accept(
    *,
    sender_user_id: uuid.UUID,
    receiver_email: str,
    amount: int,
    note: str,
    idempotency_key: str,
    request_id: str | None = None,
) -> tuple[Transfer, bool]:
    """A user's payment to the active user with `receiver_email` (any case), accepted as by
    `transfer_create_pending`, whose contract this shares. Both accounts are read in one
    query, so a new transfer costs two round trips in all."""
    email = receiver_email.lower()
    # Both conditions on the users table, so PostgreSQL ORs two index lookups there; an OR
    # spanning accounts and users would scan both tables.
    parties = get_user_model().objects.filter(Q(pk=sender_user_id) | Q(email=email, is_active=True))
    accounts = Account.objects.select_related("user").filter(user__in=parties)
    sender = next((a for a in accounts if a.user_id == sender_user_id), None)
    if sender is None:
        raise ApplicationError("not_authenticated", "This user has no wallet.", status=401)
    return transfer_create_pending(
        sender=sender,
        receiver=next((a for a in accounts if a.user.email == email), None),
        amount=amount,
        note=note,
        idempotency_key=idempotency_key,
        fingerprint=transfer_fingerprint(receiver_email=email, amount=amount, note=note),
        request_id=request_id,
    )


def transfer_accept_fast(
    *,
    sender_user_id: uuid.UUID,
    receiver_email: str,
    amount: int,
    note: str,
    idempotency_key: str,
    request_id: str | None = None,
) -> tuple[TransferPayload, bool] | None:
    """`transfer_accept` in one SQL statement for the two common cases: a valid new transfer
    (inserted, True) and a replay of a known key with the same fingerprint (False). Returns
    the transfer's JSON: this path builds no model instances (they cost more than the SQL).

    Returns None whenever the statement cannot decide: the amount or note is out of bounds;
    the receiver is unknown, inactive or the sender; the key is known with another
    fingerprint; a request with the same key committed after the statement began; the
    database is not PostgreSQL; or the backlog is over its limits. Call `transfer_accept`
    then: it decides every case, in the order of checks (README, "API"), and raises its errors. Same
    transaction and idempotency contract as `transfer_create_pending`.
    """
    if (
        connection.vendor != "postgresql"
        or _bounds_problem(amount=amount, note=note, kind=Transfer.Kind.PAYMENT)
        or backlog_overloaded()
    ):
        return None
    email = receiver_email.lower()
    fingerprint = transfer_fingerprint(receiver_email=email, amount=amount, note=note)
    row = accept_row(
        sender_user_id=sender_user_id,
        email=email,
        idempotency_key=idempotency_key,
        public_id=uuid.uuid4(),
        amount=amount,
        note=note,
        fingerprint=fingerprint,
        partitions=settings.SETTLEMENT_PARTITIONS,
        now=clock.now(),
        request_id=request_id,
    )
    if row is None or row["fingerprint"] != fingerprint:
        return None
    if row["created"]:
        TRANSFERS_ACCEPTED.labels(Transfer.Kind.PAYMENT).inc()
        on_commit_robust(partial(partition_wake, partition=row["partition"]))
    payload = transfer_payload_of(
        public_id=row["uuid"],
        status=row["status"],
        failure_code=row["failure_code"],
        amount=row["amount"],
        note=row["note"],
        sender=_party(row, "sender"),
        receiver=_party(row, "receiver"),
        created_at=row["created_at"],
        settled_at=row["settled_at"],
    )
    return payload, row["created"]


def _party(row: dict, side: str) -> PartyPayload:
    return {
        "id": str(row[f"{side}_user_id"]),
        "full_name": row[f"{side}_full_name"],
        "email": row[f"{side}_email"],
    }


def deposit_accept(
    *,
    staff_user_id: uuid.UUID,
    receiver_email: str,
    amount: int,
    idempotency_key: str,
    request_id: str | None = None,
) -> tuple[Transfer, bool]:
    """A treasury -> user deposit made by a staff member, accepted like a payment (same
    contract as `transfer_create_pending`); keys are scoped to the treasury, shared by all
    staff. The amount is bounded by MAX_DEPOSIT_AMOUNT."""
    email = receiver_email.lower()
    return transfer_create_pending(
        sender=account_treasury_get(),
        receiver=Account.objects.select_related("user")
        .filter(user__email=email, user__is_active=True)
        .first(),
        amount=amount,
        idempotency_key=idempotency_key,
        fingerprint=transfer_fingerprint(receiver_email=email, amount=amount, note=""),
        kind=Transfer.Kind.DEPOSIT,
        initiated_by_id=staff_user_id,
        request_id=request_id,
    )


def transfer_request_rejected(
    *, sender_user_id: uuid.UUID | None, idempotency_key: str, fields: dict[str, list[str]]
) -> ApplicationError:
    """The error for a request whose body is malformed, sent by the user (or, for None, to the
    treasury's key scope): 422 `idempotency_key_reused` when the key is already taken (no
    stored fingerprint can match a malformed request), else 400 `validation_error` naming
    `fields`. The key is looked up before validation. Stores nothing."""
    taken = Transfer.objects.filter(idempotency_key=idempotency_key)
    if sender_user_id is None:
        taken = taken.filter(sender__kind=Account.Kind.TREASURY)
    else:
        taken = taken.filter(sender__user_id=sender_user_id)
    if taken.exists():
        return _key_reused()
    return ApplicationError("validation_error", "Some fields are invalid.", fields=fields)


def _overloaded() -> ApplicationError:
    return ApplicationError(
        "overloaded",
        "Settlement is behind; no new transfers are accepted for a moment.",
        status=503,
        retry_after=OVERLOADED_RETRY_AFTER_SECONDS,
    )


def _key_reused() -> ApplicationError:
    return ApplicationError(
        "idempotency_key_reused",
        "This Idempotency-Key was already used for a different transfer.",
        status=422,
    )


def _pending_insert(
    *,
    sender: Account,
    receiver: Account,
    amount: int,
    note: str,
    kind: str,
    idempotency_key: str,
    fingerprint: str,
    initiated_by_id: object,
    request_id: str | None,
) -> Transfer | None:
    """Inserts the PENDING row in one round trip, or returns None when (sender, key) exists.

    Django's bulk_create(ignore_conflicts=True) cannot tell an insert from a conflict, so
    this is INSERT ... ON CONFLICT DO NOTHING RETURNING id (PostgreSQL and SQLite >= 3.35).
    """
    transfer = Transfer(
        uuid=uuid.uuid4(),
        kind=kind,
        sender=sender,
        receiver=receiver,
        amount=amount,
        note=note,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        partition=partition_of(account_id=sender.pk),
        initiated_by_id=initiated_by_id,
        created_at=clock.now(),
        request_id=request_id,
    )
    fields = [f for f in Transfer._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    # Only model metadata is interpolated; every value is a bound parameter.
    sql = (
        f"INSERT INTO {quote(Transfer._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote('sender_id')}, {quote('idempotency_key')}) DO NOTHING "
        f"RETURNING {quote(Transfer._meta.pk.column)}"
    )
    params = [f.get_db_prep_save(getattr(transfer, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    transfer.pk = row[0]
    transfer._state.adding = False
    return transfer


def _transfer_by_key(*, sender: Account, idempotency_key: str) -> Transfer | None:
    return (
        Transfer.objects.select_related("sender__user", "receiver__user")
        .filter(sender=sender, idempotency_key=idempotency_key)
        .first()
    )


def _new_transfer_problem(
    *, sender: Account, receiver: Account | None, amount: int, note: str, kind: str
) -> ApplicationError | None:
    """Why a new transfer would be refused, or None."""
    if receiver is None or (receiver.user is not None and not receiver.user.is_active):
        return ApplicationError("receiver_not_found", "No active user has this email.")
    if receiver.pk == sender.pk:
        return ApplicationError("self_transfer", "You cannot send money to yourself.")
    return _bounds_problem(amount=amount, note=note, kind=kind)


def _bounds_problem(*, amount: int, note: str, kind: str) -> ApplicationError | None:
    fields = {}
    limit_setting = _AMOUNT_LIMIT_SETTINGS.get(kind)
    if amount <= 0:
        fields["amount"] = ["Must be more than 0.00."]
    elif limit_setting and amount > getattr(settings, limit_setting):
        fields["amount"] = [f"At most {format_paise(getattr(settings, limit_setting))}."]
    if len(note) > Transfer._meta.get_field("note").max_length:
        fields["note"] = ["At most 140 characters."]
    if fields:
        return ApplicationError("validation_error", "Some fields are invalid.", fields=fields)
    return None


@transaction.atomic(savepoint=False)
def welcome_credit_grant(*, user: AbstractBaseUser) -> Transfer | None:
    """Credits WELCOME_CREDIT_PAISE from the treasury to the user's wallet and settles it at
    once; None when the welcome credit is 0.

    Transaction: the caller's (registration), after `account_create_wallet`. Locks: as
    `partition_settle_batch` on the treasury's partition, which also settles the treasury's
    earlier PENDING transfers (deposits) first. The treasury row is shared by every welcome
    credit, so registrations settle it one at a time.
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
    # Settled through the treasury's partition, oldest first, rather than alone: a welcome
    # credit must not overtake a deposit the treasury accepted before it (per-sender order).
    # Each batch settles at least this PENDING credit's predecessors, so the loop ends.
    while Transfer.objects.filter(pk=transfer.pk, status=Transfer.Status.PENDING).exists():
        partition_settle_batch(partition=transfer.partition, limit=settings.SETTLEMENT_BATCH_SIZE)
    return Transfer.objects.select_related("sender__user", "receiver__user").get(pk=transfer.pk)


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
