"""Shortcuts over the services for tests: each call is what one entry point would do."""

import base64
import json
import time
import uuid

from django.conf import settings
from django.db import transaction
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from api.accounts.models import Account
from api.accounts.selectors import account_treasury_get
from api.config.celery import app as celery_app
from api.core.redis import redis_client
from api.transfers.idempotency import transfer_fingerprint
from api.transfers.models import Transfer
from api.transfers.partitions import partition_wake_clear
from api.transfers.services import transfer_create_pending
from api.transfers.settlement import transfers_settle

# Kombu's Redis transport: the default queue is a list; messages a worker has taken but not
# acknowledged wait in a hash until `visibility_timeout`.
BROKER_QUEUE = "celery"
BROKER_UNACKED = ("unacked", "unacked_index")


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


def transfer_settle(*, transfer_id: int) -> Transfer:
    """Settles one transfer, if still PENDING, in the caller's transaction (the batch service
    with one id) and returns it with both parties' users loaded."""
    transfers_settle(transfer_ids=[transfer_id])
    return Transfer.objects.select_related("sender__user", "receiver__user").get(pk=transfer_id)


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


def client_of(account) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(account.user)}")
    return client


def pay(client: APIClient, receiver, amount: str, key: str | None = None, note: str | None = None):
    """POST /api/wallet/transfer/ to `receiver` (an account, or an email as typed)."""
    body = {
        "receiver_email": receiver if isinstance(receiver, str) else receiver.user.email,
        "amount": amount,
    }
    if note is not None:
        body["note"] = note
    return client.post(
        "/api/wallet/transfer/",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex if key is None else key,
    )


def wait_settled(uuids, timeout: float = 30) -> dict[str, Transfer]:
    deadline = time.monotonic() + timeout
    while True:
        transfers = {str(t.uuid): t for t in Transfer.objects.filter(uuid__in=uuids)}
        if all(t.status != Transfer.Status.PENDING for t in transfers.values()):
            return transfers
        if time.monotonic() > deadline:
            pending = [u for u, t in transfers.items() if t.status == Transfer.Status.PENDING]
            raise AssertionError(f"still PENDING after {timeout} s: {pending}")
        time.sleep(0.05)


def celery_task(name: str):
    """A registered task by name, as beat and the broker address it; call it to run its body
    in this process."""
    celery_app.loader.import_default_modules()
    return celery_app.tasks[name]


def broker_queued() -> int:
    """Messages waiting in the broker's default queue."""
    return redis_client().llen(BROKER_QUEUE)


def broker_unacked_args(task: str) -> list[list]:
    """The arguments of every message of `task` that a worker took and has not acknowledged
    (a worker killed while running them leaves them here until `visibility_timeout`)."""
    found = []
    for raw in redis_client().hvals(BROKER_UNACKED[0]):
        payload = json.loads(raw)[0]
        if payload["headers"].get("task") != task:
            continue
        body = payload["body"]
        if payload["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, _kwargs, _embed = json.loads(body)
        found.append(args)
    return found


def broker_reset() -> None:
    """Drops every queued and unacknowledged message and every partition's wake flag, so a
    test starts with an empty broker (earlier tests publish wake-ups for rows since flushed)."""
    redis_client().delete(BROKER_QUEUE, *BROKER_UNACKED)
    for partition in range(settings.SETTLEMENT_PARTITIONS):
        partition_wake_clear(partition=partition)


# MoneyField's message for anything that is not an amount string.
AMOUNT_INVALID = 'Send the amount as a string of rupees with at most two decimals, e.g. "125.50".'
