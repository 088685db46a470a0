"""Accept stores the request's X-Request-ID with the transfer, on the one-statement path and
on the full DRF path alike, and for deposits; the settler logs it (test_telemetry.py)."""

import uuid

import pytest

from api.transfers.apis.accept import TransferCreateApi
from api.transfers.models import Transfer
from api.transfers.tests.helpers import client_of

pytestmark = pytest.mark.django_db


def post(client, path: str, body: dict, request_id: str):
    return client.post(
        path,
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        HTTP_X_REQUEST_ID=request_id,
    )


@pytest.mark.parametrize("path", ["fast", "full"])
def test_both_accept_paths_store_the_request_id(make_wallet, monkeypatch, path):
    sender, receiver = make_wallet(balance=1_000), make_wallet()
    if path == "full":
        monkeypatch.setattr(TransferCreateApi, "_fast_post", lambda self, request: None)

    response = post(
        client_of(sender),
        "/api/wallet/transfer/",
        {"receiver_email": receiver.user.email, "amount": "1.00"},
        f"accept-{path}",
    )

    assert response.status_code == 202, response.content
    stored = Transfer.objects.get(uuid=response.json()["id"])
    assert stored.request_id == response["X-Request-ID"] == f"accept-{path}"


def test_a_deposit_stores_the_request_id(make_wallet, django_user_model):
    receiver = make_wallet()
    staff = make_wallet()
    django_user_model.objects.filter(pk=staff.user_id).update(is_staff=True)

    response = post(
        client_of(staff),
        "/api/wallet/deposits/",
        {"email": receiver.user.email, "amount": "5.00"},
        "deposit-1",
    )

    assert response.status_code == 202, response.content
    assert Transfer.objects.get(uuid=response.json()["id"]).request_id == "deposit-1"


def test_a_replay_keeps_the_first_request_id(make_wallet):
    sender, receiver = make_wallet(balance=1_000), make_wallet()
    body = {"receiver_email": receiver.user.email, "amount": "1.00"}
    client = client_of(sender)
    first = client.post(
        "/api/wallet/transfer/", body, format="json",
        HTTP_IDEMPOTENCY_KEY="key-replayed", HTTP_X_REQUEST_ID="first",
    )  # fmt: skip
    again = client.post(
        "/api/wallet/transfer/", body, format="json",
        HTTP_IDEMPOTENCY_KEY="key-replayed", HTTP_X_REQUEST_ID="again",
    )  # fmt: skip

    assert (first.status_code, again.status_code) == (202, 200)
    assert Transfer.objects.get(uuid=first.json()["id"]).request_id == "first"
