"""The accept -> Celery -> settle pipeline with a real worker process, PostgreSQL and Redis."""

import io
import time
import uuid

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from api.transfers.models import Transfer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _ledger_audit_passes_afterwards():
    yield
    out = io.StringIO()
    call_command("ledger_audit", stdout=out)
    assert out.getvalue().startswith("ledger OK"), out.getvalue()


def client_of(account) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(account.user)}")
    return client


def pay(client: APIClient, receiver, amount: str, key: str | None = None):
    return client.post(
        "/api/wallet/transfer/",
        {"receiver_email": receiver.user.email, "amount": amount},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
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
