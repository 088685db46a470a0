"""Shortcuts over the services for tests: each call is what one entry point would do."""

import uuid

from django.db import transaction

from api.accounts.models import Account
from api.accounts.selectors import account_treasury_get
from api.transfers.idempotency import transfer_fingerprint
from api.transfers.models import Transfer
from api.transfers.services import transfer_create_pending, transfer_settle


def pending_create(
    *, sender: Account, receiver: Account, amount: int, note: str = "", kind=None
) -> Transfer:
    """A PENDING transfer under a fresh idempotency key, committed like an accepted request."""
    email = receiver.user.email if receiver.user else ""
    with transaction.atomic(durable=True):
        transfer, created = transfer_create_pending(
            sender=sender,
            receiver=receiver,
            amount=amount,
            note=note,
            kind=kind or Transfer.Kind.PAYMENT,
            idempotency_key=uuid.uuid4().hex,
            fingerprint=transfer_fingerprint(receiver_email=email, amount=amount, note=note),
        )
    assert created
    return transfer


def settle(transfer_id: int) -> Transfer:
    """Settles in its own outermost transaction, as the Celery task does."""
    with transaction.atomic(durable=True):
        return transfer_settle(transfer_id=transfer_id)


def deposit(*, account: Account, amount: int) -> Transfer:
    """Treasury -> `account`, settled."""
    transfer = pending_create(
        sender=account_treasury_get(), receiver=account, amount=amount, kind=Transfer.Kind.DEPOSIT
    )
    settled = settle(transfer.pk)
    assert settled.status == Transfer.Status.SUCCESS
    return settled
